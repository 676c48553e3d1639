"""The cloud drill's connection handling: the password reaches pg_dump only through PGPASSWORD,
Supavisor's transaction-mode URL becomes its session mode (a snapshot cannot be shared across a
transaction pooler), and the restore list drops only `CREATE SCHEMA public`."""

from __future__ import annotations

from pathlib import Path

import pytest

from recovery.cloud_drill import dump_command, libpq_env, restore_list, source_params
from recovery.scratch import Scratch

REF = "abcdefghijklmnopqrst"
POOLED = (
    f"postgresql://postgres.{REF}:p%40ss%2Fw0rd@aws-1-eu-central-1.pooler.supabase.com:6543/"
    "postgres?sslmode=require"
)


def test_the_transaction_pooler_url_is_read_in_session_mode() -> None:
    params = source_params(POOLED)
    assert params["port"] == "5432" and params["host"].endswith(".pooler.supabase.com")
    assert params["password"] == "p@ss/w0rd" and params["sslmode"] == "require"


def test_other_hosts_keep_their_port() -> None:
    assert source_params("postgresql://u:p@127.0.0.1:6543/mentora")["port"] == "6543"


def test_the_password_is_in_the_environment_never_in_the_arguments(tmp_path: Path) -> None:
    params = source_params(POOLED)
    env = libpq_env(params)
    assert env["PGPASSWORD"] == "p@ss/w0rd" and env["PGSSLMODE"] == "require"
    scratch = Scratch(base=tmp_path, port=5999, superuser="postgres", password=None)
    command = dump_command(scratch, "00000003-00000002-1", tmp_path / "d.dump")
    joined = " ".join(command)
    assert "p@ss" not in joined and "p%40ss" not in joined and REF not in joined
    assert "--snapshot=00000003-00000002-1" in command and "--no-owner" in command


def test_a_url_parameter_pg_dump_cannot_take_from_env_is_refused() -> None:
    with pytest.raises(ValueError, match="target_session_attrs"):
        source_params("postgresql://u:p@h:5432/db?target_session_attrs=read-write")


def test_the_restore_list_drops_only_the_public_schema_entry() -> None:
    toc = "\n".join(
        [
            ";",
            "6; 2615 2200 SCHEMA - public pg_database_owner",
            "7; 2615 16390 SCHEMA - private mentora_admin",
            "8; 1259 16400 TABLE public creators mentora_admin",
        ]
    )
    kept = restore_list(toc).splitlines()
    assert kept == [";", toc.splitlines()[2], toc.splitlines()[3]]


def test_no_command_the_drill_runs_carries_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every step that runs a program, spied: the password may be in pg_dump's environment
    # (PGPASSWORD) and nowhere else, neither in any argument nor in pg_restore's environment.
    import contextlib
    from datetime import UTC, datetime

    from recovery import cloud_drill
    from recovery.proofs import Expected
    from recovery.report import DrillReport

    ran: list[tuple[list[str], dict[str, str]]] = []

    class Conn:
        def execute(self, *_: object) -> Conn:
            return self

        def fetchall(self) -> list[tuple[str]]:
            return [("3f0c8f4e-0000-4000-8000-000000000001",)]

        def __enter__(self) -> Conn:
            return self

        def __exit__(self, *_: object) -> None:
            return None

    @contextlib.contextmanager
    def snapshot(params: dict[str, str]):  # type: ignore[no-untyped-def]
        yield cloud_drill.Snapshot(Conn(), "00000003-00000002-1", datetime.now(UTC))

    monkeypatch.setattr(cloud_drill, "source_snapshot", snapshot)
    monkeypatch.setattr(cloud_drill, "prepare_scratch", lambda scratch, ids: None)
    monkeypatch.setattr(
        cloud_drill.facts, "read_expected", lambda conn: Expected(ledger=(), row_counts={})
    )
    monkeypatch.setattr(cloud_drill.proofs, "run_all", lambda *a, **k: [])
    monkeypatch.setattr(cloud_drill.Scratch, "connect", lambda self, *a, **k: Conn())

    def spy(step: str, command: list[str], env: dict[str, str], secrets: list[str]) -> str:
        ran.append((command, env))
        return ""

    monkeypatch.setattr(cloud_drill, "_run", spy)
    scratch = Scratch(base=tmp_path, port=5999, superuser="postgres", password=None)
    report = DrillReport(stack="prod", method=cloud_drill.METHOD)
    cloud_drill.copy_and_prove(report, POOLED, scratch, started=0.0)

    assert [Path(c[0]).name for c, _ in ran] == ["pg_dump", "pg_restore", "pg_restore"]
    for command, _env in ran:
        assert not any("p@ss" in arg or "p%40ss" in arg for arg in command), command
    assert ran[0][1]["PGPASSWORD"] == "p@ss/w0rd" and ran[0][1]["PGPORT"] == "5432"
    assert all("PGPASSWORD" not in env for _, env in ran[1:])


def test_a_cloud_drill_at_a_past_time_is_refused_before_anything_runs(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from recovery.cloud_drill import DrillUsageError, run

    with pytest.raises(DrillUsageError, match="drop --at"):
        run("prod", POOLED, datetime(2026, 12, 4, tzinfo=UTC), parent_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []  # no scratch was made
