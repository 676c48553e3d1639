"""`mentora-infra cloud drill|restore` through typer's runner: bad input exits 2 before any
output is read or any request sent (no pulumi CLI is on PATH here to read them)."""

from __future__ import annotations

from typer.testing import CliRunner

from gate.cli import app


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["cloud", *args], env={"PATH": "/nonexistent", **(env or {})})
    return result.exit_code, result.output


def test_restoring_prod_without_the_flag_exits_2_before_reading_anything() -> None:
    code, output = invoke("restore", "prod", "--to", "2026-12-04T22:00:00Z")
    assert code == 2 and "--really-restore-prod" in output and "pulumi" not in output


def test_a_time_without_a_zone_or_in_the_future_exits_2() -> None:
    code, output = invoke("restore", "dev", "--to", "2026-12-04 22:00")
    assert code == 2 and "no zone" in output
    code, output = invoke("restore", "dev", "--to", "2999-01-01T00:00:00Z")
    assert code == 2 and "in the future" in output


def test_a_drill_whose_url_variable_is_empty_exits_2() -> None:
    code, output = invoke("drill", "prod", "--source-url-env", "NOPE", env={"NOPE": ""})
    assert code == 2 and "$NOPE holds no database URL" in output


def test_without_the_pulumi_cli_the_drill_says_how_to_get_outputs() -> None:
    code, output = invoke("drill", "prod")
    assert code == 2 and "pulumi CLI not found" in output
