"""`mentora-infra rotate`'s argument handling: bad input exits 2 before anything is touched, a
held gate lock exits 7, a cloud `errors` rotation says where its credentials are made."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gate import cli
from gate.exitcodes import Exit
from gate.lock import gate_lock

runner = CliRunner()


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: mentora\n")
    (tmp_path / "Pulumi.local.yaml").write_text("config:\n  mentora:target: local\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  mentora:target: cloud\n")
    monkeypatch.setenv("MENTORA_REPO", str(tmp_path))
    # The CLI's callback moves its ROOT and the working directory: both come back after.
    monkeypatch.setattr(cli, "ROOT", cli.ROOT)
    monkeypatch.chdir(Path.cwd())
    monkeypatch.setattr(shutil, "which", lambda _name: "/usr/bin/pulumi")
    return tmp_path


@pytest.fixture
def no_subprocess(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        raise AssertionError("no command may run")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    return calls


def test_an_unknown_kind_is_refused(checkout: Path, no_subprocess: list[Any]) -> None:
    result = runner.invoke(cli.app, ["rotate", "local", "passwords"])
    assert result.exit_code == Exit.USAGE
    assert "passwords" in result.output and no_subprocess == []


def test_an_unknown_stack_is_named(checkout: Path, no_subprocess: list[Any]) -> None:
    result = runner.invoke(cli.app, ["rotate", "staging", "cache"])
    assert result.exit_code == Exit.USAGE
    assert "Pulumi.staging.yaml" in result.output and no_subprocess == []


def test_a_held_gate_lock_is_busy(checkout: Path, no_subprocess: list[Any]) -> None:
    with gate_lock("local", checkout):
        result = runner.invoke(cli.app, ["rotate", "local", "cache"])
    assert result.exit_code == Exit.BUSY
    assert "another gate is running" in result.output and no_subprocess == []


def test_cloud_errors_has_nothing_to_rotate_and_says_where_to(
    checkout: Path, no_subprocess: list[Any]
) -> None:
    result = runner.invoke(cli.app, ["rotate", "dev", "errors"])
    assert result.exit_code == Exit.FAILED
    assert "Sentry" in result.output and "pulumi config set --secret" in result.output
    assert "sentryAuthToken" in result.output
    assert no_subprocess == []


def test_destroy_while_a_gate_runs_is_busy_and_touches_nothing(
    checkout: Path, no_subprocess: list[Any]
) -> None:
    """A destroy between a gate's deploy and its smoke made the gate record a failed deploy of
    a healthy commit (and a prod gate hold the stack): `destroy` waits its turn like `rotate`
    and `drift` (exit 7 naming the holder), before pulumi is started."""
    with gate_lock("local", checkout):
        result = runner.invoke(cli.app, ["destroy", "local"])
    assert result.exit_code == Exit.BUSY, result.output
    assert "another gate is running" in result.output and no_subprocess == []


def test_a_provider_error_with_no_message_is_reported_not_a_crash(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rotate` prints an error as `Type: first line` (no traceback: its locals hold
    credentials); an exception with an empty message made that line an IndexError."""
    from rotation import cloud

    def fail(*_args: Any) -> int:
        raise TimeoutError()

    monkeypatch.setattr(cloud, "main", fail)
    result = runner.invoke(cli.app, ["rotate", "dev", "storage"])
    assert result.exit_code == Exit.FAILED, result.output
    assert "rotate failed: TimeoutError; nothing was changed" in result.output


def test_a_review_stacks_database_is_not_rotated_but_the_base_is_named(
    checkout: Path, no_subprocess: list[Any]
) -> None:
    (checkout / "Pulumi.pr-5.yaml").write_text(
        "config:\n  mentora:target: local\n  mentora:baseStack: local\n"
    )
    result = runner.invoke(cli.app, ["rotate", "pr-5", "database"])
    assert result.exit_code == Exit.USAGE, result.output
    text = " ".join(result.output.split())
    assert "tenant of local's servers" in text and "mentora-infra rotate local database" in text
    assert no_subprocess == []  # refused before anything ran
