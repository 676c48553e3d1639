"""review/base.py: a review stack waits (bounded) for its base stack, is named by what it keeps
in the base's Postgres, and no destroy or restore of the base takes a review stack's data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gate import cli as gate_cli
from gate.exitcodes import Exit
from gate.lock import gate_lock
from review import base
from review.errors import ReviewUsage
from review.state import Paths, Record


class Clock:
    """A fake monotonic clock that `sleep` moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def outputs(monkeypatch: pytest.MonkeyPatch, answers: list[Any]) -> list[str]:
    """Make `pulumi stack output` answer `answers` in turn (the last one from then on)."""
    asked: list[str] = []

    def output(_root: Path, stack: str, name: str, *, secret: bool = False) -> Any:
        asked.append(f"{stack}:{name}:{secret}")
        return answers.pop(0) if len(answers) > 1 else answers[0]

    monkeypatch.setattr(base.pulumi_cli, "output", output)
    return asked


def test_a_deployed_base_is_not_waited_for(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock, said = Clock(), []
    asked = outputs(monkeypatch, [{"postgres_admin_url": "[secret]"}])
    base.wait_for_base(checkout, 300, said.append, clock=lambda: clock.now, sleep=clock.sleep)
    assert (clock.now, said, asked) == (0.0, [], ["local:review_base:False"])  # no secret read


def test_a_base_whose_gate_runs_is_waited_for_until_it_is_up(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, said = Clock(), []
    outputs(monkeypatch, [None, None, {"postgres_admin_url": "[secret]"}])
    base.wait_for_base(checkout, 300, said.append, clock=lambda: clock.now, sleep=clock.sleep)
    assert clock.now == 2.0 and len(said) == 1 and "waiting up to 300s" in said[0]


def test_a_base_that_never_comes_up_is_refused_after_the_wait_naming_the_fix(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    outputs(monkeypatch, [None])
    with gate_lock("local", checkout), pytest.raises(ReviewUsage) as refused:
        base.wait_for_base(checkout, 5, lambda _: None, clock=lambda: clock.now, sleep=clock.sleep)
    assert clock.now == 5.0  # bounded
    assert "its gate is still running after 5s" in str(refused.value)
    assert "make up" in str(refused.value)


def test_a_tenant_is_named_by_its_settings_or_derived_again(checkout: Path) -> None:
    from review.tenant import names_of

    paths = Paths(checkout, "pr-7")
    derived = ("local", "mentora_pr_7", "mentora_app_pr_7", "mentora-videos-pr-7", "us-east-1")
    assert names_of(paths) == derived  # no settings file: a killed up's
    paths.config_file.write_text(
        "config:\n  mentora:baseStack: local\n  mentora:databaseName: db_x\n"
        "  mentora:appUser: app_x\n  mentora:bucketName: b-x\n  mentora:region: eu-west-1\n"
    )
    assert names_of(paths) == ("local", "db_x", "app_x", "b-x", "eu-west-1")


def review_stacks(root: Path, *prs: int) -> None:
    for pr in prs:
        Record(stack=f"pr-{pr}", pr=pr, base="local", created_at=0, ttl_s=60, ports={}).save(root)


def test_destroying_a_base_with_review_stacks_is_refused_before_anything(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    review_stacks(checkout, 3, 12)
    # Were the refusal broken, the destroy would meet an empty backend, never a real stack.
    monkeypatch.setenv("PULUMI_BACKEND_URL", (checkout / "backend").as_uri())
    (checkout / "backend").mkdir()
    result = CliRunner().invoke(gate_cli.app, ["--repo", str(checkout), "destroy", "local"])
    assert result.exit_code == Exit.USAGE, result.output
    text = " ".join(result.output.split())
    assert "holds the databases of review stacks pr-3, pr-12" in text
    assert "mentora-infra review down 3; mentora-infra review down 12" in text
    assert not (checkout / ".pulumi-local" / "gate").exists()  # not even the lock was taken


def test_restoring_a_base_with_review_stacks_is_refused(checkout: Path) -> None:
    from gate.local_recovery import refuse_rewinding_tenants
    from recovery.errors import RecoveryUsageError

    refuse_rewinding_tenants(checkout, "local")  # none: nothing to refuse
    review_stacks(checkout, 4)
    with pytest.raises(RecoveryUsageError, match="restore local: its Postgres holds .* pr-4"):
        refuse_rewinding_tenants(checkout, "local")


def test_a_base_whose_state_cannot_be_read_yet_is_waited_for(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `make up` started at the same time may be writing the base's state when `review up`
    asks for its output: that answer is not final, the wait goes on."""
    from review.errors import ReviewError

    clock, answers = Clock(), [ReviewError("pulumi stack output review_base of local failed")]

    def output(_root: Path, _stack: str, _name: str, *, secret: bool = False) -> Any:
        if answers:
            raise answers.pop()
        return {"postgres_admin_url": "[secret]"}

    monkeypatch.setattr(base.pulumi_cli, "output", output)
    base.wait_for_base(checkout, 300, lambda _: None, clock=lambda: clock.now, sleep=clock.sleep)
    assert clock.now == 1.0


def test_a_base_whose_state_never_reads_is_refused_with_the_last_error(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from review.errors import ReviewError

    def output(_root: Path, _stack: str, _name: str, *, secret: bool = False) -> Any:
        raise ReviewError("pulumi stack output review_base of local failed: no passphrase")

    monkeypatch.setattr(base.pulumi_cli, "output", output)
    clock = Clock()
    with pytest.raises(ReviewUsage, match="no passphrase") as refused:
        base.wait_for_base(checkout, 5, lambda _: None, clock=lambda: clock.now, sleep=clock.sleep)
    assert clock.now == 5.0 and "make up" in str(refused.value)
