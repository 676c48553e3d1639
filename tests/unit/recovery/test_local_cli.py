"""`mentora-infra drill|restore` (local stacks, gate/local_recovery.py) refuse bad input with
exit 2 before anything is touched (typer's CliRunner, the CLI's public test runner)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gate import cli
from gate.local_recovery import parse_time
from recovery.errors import RecoveryUsageError


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, list(args))
    return result.exit_code, result.output


def test_restore_of_prod_needs_the_flag(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "ROOT", tmp_path)  # our own module global: no checkout is read
    code, output = run("restore", "prod", "--to", "2026-12-04T23:00:00Z")
    assert code == 2, output
    assert "--really-restore-prod" in output


def test_restore_needs_a_time() -> None:
    code, output = run("restore", "local")
    assert code == 2 and "--to TIME is required" in output, output


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2999-01-01T00:00:00Z"])
def test_a_bad_time_is_refused(value: str) -> None:
    code, output = run("drill", "local", "--at", value)
    assert code == 2, output
    assert "--at" in output


def test_a_time_without_zone_is_utc() -> None:
    assert parse_time("2026-12-04T23:15:00", "--to").isoformat() == "2026-12-04T23:15:00+00:00"
    with pytest.raises(RecoveryUsageError, match="in the future"):
        parse_time("2999-01-01", "--to")


def test_a_stack_without_backups_is_refused_naming_the_setting(tmp_path: Path) -> None:
    from gate.local_recovery import backup_output

    (tmp_path / "Pulumi.pr-3.yaml").write_text(
        "config:\n  mentora:target: local\n  mentora:backups: 'false'\n"
    )
    with pytest.raises(RecoveryUsageError, match="keeps no backups") as refused:
        backup_output("pr-3", tmp_path)  # before any pulumi command: none runs here
    assert "mentora:backups is false in Pulumi.pr-3.yaml" in str(refused.value)
    assert "mentora-infra drill local" in str(refused.value)
