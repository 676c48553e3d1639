"""Data safety of the migrations: a database migrated from zero in one run and one migrated a
file per run end with the identical schema, compared by `pg_dump --schema-only` (tables,
columns, indexes, constraints, grants, RLS and its policies, triggers, functions, extensions).

Re-runs, edited or missing applied files and a broken file's rollback are covered by
test_migrations_db.py; `destroy` leaving nothing and `up` again by test_fault_matrix.py; the
CLI refusing `destroy prod` by tests/unit/test_cli.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from components.migrations import runner
from tests.unit.test_migration_runner import GUIDE_TABLES, REPO_MIGRATIONS

if TYPE_CHECKING:
    from tests.integration.pg_fixture import PgServer

pytest_plugins = ["tests.integration.pg_fixture"]

SHIM = Path(__file__).resolve().parents[2] / "components" / "local" / "sql" / "supabase_shim.sql"
# pg_dump 18 brackets its output with a random `\restrict` key: not part of the schema.
_RESTRICT = re.compile(r"^\\(un)?restrict .*$", re.M)


def shimmed_database(pg_server: PgServer, name: str) -> str:
    url = pg_server.create_database(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SHIM.read_text())
    return url


def schema_dump(pg_server: PgServer, database: str) -> str:
    """`pg_dump --schema-only` of every schema but the migration ledger's (its rows are data)."""
    from tests.integration.pg_fixture import SUPERUSER, pg_bin_dir  # loaded as a plugin first

    command = [
        str(pg_bin_dir() / "pg_dump"),
        "--schema-only",
        "--no-comments",
        "--exclude-schema=supabase_migrations",
        f"--host={pg_server.host}",
        f"--port={pg_server.port}",
        f"--username={SUPERUSER}",
        f"--dbname={database}",
    ]
    # The password goes through the environment, never the command line.
    env = {**os.environ, "PGPASSWORD": pg_server.password, "PGCONNECT_TIMEOUT": "10"}
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return _RESTRICT.sub("", proc.stdout)


def test_one_run_and_one_file_per_run_give_the_identical_schema(
    pg_server: PgServer, tmp_path: Path
) -> None:
    at_once = shimmed_database(pg_server, "mentora_schema_at_once")
    result = runner.apply(at_once, REPO_MIGRATIONS)
    files = runner.discover(REPO_MIGRATIONS)
    assert result.applied == tuple(m.version for m in files)

    step_url = shimmed_database(pg_server, "mentora_schema_stepwise")
    folder = tmp_path / "migrations"
    folder.mkdir()
    for migration in files:  # the folder grows by one file per run, as a project's history does
        shutil.copy2(migration.path, folder / migration.path.name)
        step = runner.apply(step_url, folder)
        assert step.applied == (migration.version,), migration.path.name
    assert runner.applied_versions(step_url) == runner.applied_versions(at_once)

    expected, actual = (
        schema_dump(pg_server, db) for db in ("mentora_schema_at_once", "mentora_schema_stepwise")
    )
    # The dump is the schema itself, not an empty or partial text.
    for table in GUIDE_TABLES:
        assert f"CREATE TABLE public.{table} (" in expected, table
        assert f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY;" in expected, table
    for kind in ("CREATE POLICY ", "GRANT ", "CREATE TRIGGER ", "CREATE FUNCTION ", "USING hnsw"):
        assert kind in expected, kind
    assert "CREATE EXTENSION IF NOT EXISTS vector" in expected
    if actual != expected:
        import difflib

        diff = difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), "one run", "file by file", lineterm=""
        )
        raise AssertionError("schemas differ:\n" + "\n".join(list(diff)[:80]))


CHANGES = (
    "revoke delete on public.quizzes from authenticated",
    "drop policy creators_visible_to_members on public.creators",
    "alter table public.projects disable row level security",
    "drop index public.video_chunks_embedding_hnsw_idx",
)


def test_the_dump_sees_each_changed_grant_policy_rls_or_index(pg_server: PgServer) -> None:
    url = shimmed_database(pg_server, "mentora_schema_control")
    runner.apply(url, REPO_MIGRATIONS)
    before = schema_dump(pg_server, "mentora_schema_control")
    with psycopg.connect(url, autocommit=True) as conn:
        for change in CHANGES:
            conn.execute(change)
            after = schema_dump(pg_server, "mentora_schema_control")
            assert after != before, f"the dump missed: {change}"
            before = after
