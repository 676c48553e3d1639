"""`mentora-infra cloud drill|restore` through typer's runner: bad input exits 2 before any
output is read or any request sent (no pulumi CLI is on PATH here to read them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gate.cli import app
from recovery.cli import TOKEN_KEY, config_secret, stack_output


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


def test_the_token_falls_back_to_the_stack_secret_read_from_pulumi_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in `pulumi` that logs its arguments and prints the secret only for the one
    # config key asked for.
    log = tmp_path / "argv.log"
    fake = tmp_path / "pulumi"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        'if [ "$1 $2 $3" = "config get mentora:supabaseAccessToken" ]; then echo sbp_secret; '
        "else exit 1; fi\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert config_secret("prod", TOKEN_KEY) == "sbp_secret"
    assert stack_output("prod", "supabase_url") is None  # the stand-in exports nothing
    calls = log.read_text().splitlines()
    assert calls[0] == "config get mentora:supabaseAccessToken --show-secrets --stack prod"
    assert not any("sbp_secret" in call for call in calls)


def test_a_cloud_drill_copies_from_postgres_not_from_the_apps_own_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `rotate <cloud stack> database` the app logs in as `mentora_app_a`, which cannot
    read the migration ledger or auth.users the drill proves: the drill copies from the
    stack's `drill_source_url` (`postgres`, session mode) when it has one."""
    import json

    outputs = {
        "target": "cloud",
        "database_url": "postgresql://mentora_app_a.ref:app-pw@app-login.invalid:1/postgres",
        "drill_source_url": "postgresql://postgres.ref:admin-pw@127.0.0.1:1/postgres",
        "redis_url": "rediss://default:pw@cache:6379",
        "bucket_name": "videos",
        "storage_endpoint": "",
        "storage_region": "us-east-1",
        "env": {},
    }
    fake = tmp_path / "pulumi"
    fake.write_text(f"#!/bin/sh\ncat <<'JSON'\n{json.dumps(outputs)}\nJSON\n")
    fake.chmod(0o755)
    code, output = invoke("drill", "prod", env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert "copying postgresql://***@127.0.0.1:1/postgres" in output, output
    assert "app-login.invalid" not in output and "admin-pw" not in output and code != 0
