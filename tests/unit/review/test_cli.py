"""`mentora-infra review ...` through the gate's own CLI: bad input exits 2 naming the fix with
nothing touched; `down` of a missing stack exits 0 saying so; a second `up` of the same PR while
one runs is refused BUSY (exit 7) without touching anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gate import cli
from gate.exitcodes import Exit
from review.lock import review_lock
from review.state import Paths
from tests.unit.review.conftest import FakeBackend

runner = CliRunner()


@pytest.fixture(autouse=True)
def _keep_the_gates_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--repo` makes the CLI's callback set gate.cli.ROOT and chdir there: undo both after
    each test, so the next module's CLI tests act on this checkout again."""
    monkeypatch.setattr(cli, "ROOT", cli.ROOT)
    monkeypatch.chdir(Path.cwd())


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["review", "up", "abc"], "'abc' is not a pull request number; give a whole number"),
        (["review", "up", "0"], "give a whole number from 1"),
        (["review", "up", "3.5"], "give a whole number"),
        (["review", "up", "4", "--ttl", "0"], "--ttl '0' is not a time to live"),
        (["review", "up", "4", "--ttl", "3 days"], "e.g. --ttl 72h"),
        (["review", "down", "pr-4"], "'pr-4' is not a pull request number"),
        (["review", "sweep", "--open", "4,x"], "'x' is not a pull request number"),
    ],
)
def test_bad_input_exits_2_naming_the_fix_before_anything(
    checkout: Path, backend: FakeBackend, args: list[str], says: str
) -> None:
    before = tree(checkout)
    result = runner.invoke(cli.app, ["--repo", str(checkout), *args])
    assert result.exit_code == Exit.USAGE, result.output
    assert says in " ".join(result.output.split())
    assert tree(checkout) == before and backend.calls() == []


def test_down_of_a_missing_stack_exits_0_saying_so(checkout: Path, backend: FakeBackend) -> None:
    result = runner.invoke(cli.app, ["--repo", str(checkout), "review", "down", "12"])
    assert result.exit_code == 0, result.output
    assert "pr-12: no such review stack (already gone)" in result.output


def test_a_second_up_of_the_same_pr_is_refused_busy(checkout: Path, backend: FakeBackend) -> None:
    with review_lock("pr-5", checkout):  # a `review up 5` is running
        before = tree(checkout)
        result = runner.invoke(cli.app, ["--repo", str(checkout), "review", "up", "5"])
        assert result.exit_code == Exit.BUSY, result.output
        assert "another review command is running" in " ".join(result.output.split())
        assert tree(checkout) == before
        assert not Paths(checkout, "pr-5").config_file.exists()
        assert not any("init" in call for call in backend.calls())


def test_list_shows_a_half_made_stack_the_backend_has(checkout: Path, backend: FakeBackend) -> None:
    backend.set_stacks(["local", "pr-8"])
    result = runner.invoke(cli.app, ["--repo", str(checkout), "review", "list"])
    assert result.exit_code == 0, result.output
    assert "pr-8" in result.output and "half-made" in result.output
    assert "local" not in result.output.split("\n", 1)[1]


def test_review_is_a_subcommand_of_the_gate() -> None:
    result = runner.invoke(cli.app, ["review", "--help"])
    assert result.exit_code == 0
    assert all(word in result.output for word in ("up", "down", "list", "sweep"))
    assert os.environ.get("FAKE_PULUMI_DIR") is None  # no fixture leaked
