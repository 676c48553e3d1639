"""Database checks: connection, pgvector, the guide's 15 tables, RLS, seeds, migration ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smoke.guide import GUIDE_TABLES
from smoke.outputs import PROJECT_ROOT, StackOutputs
from smoke.report import Measure
from smoke.targets import shown, unreachable

TABLES = GUIDE_TABLES
MIGRATIONS = PROJECT_ROOT / "supabase" / "migrations"


@pytest.fixture(scope="module")
def db(outputs: StackOutputs, timeout_s: float, pytestconfig: pytest.Config) -> Iterator[Any]:
    import psycopg

    options = f"-c statement_timeout={int(timeout_s * 1000)}"
    if pytestconfig.getoption("--read-only"):
        options += " -c default_transaction_read_only=on"  # the server itself refuses writes
    try:
        conn = psycopg.connect(
            outputs.database_url,
            connect_timeout=max(1, round(timeout_s)),
            options=options,
            autocommit=True,
        )
    except psycopg.Error as exc:
        raise unreachable("database", "postgres", outputs.database_url, exc) from None
    with conn:
        yield conn


def query(db: Any, measure: Measure, outputs: StackOutputs, sql: str, *args: Any) -> list[Any]:
    with measure.timed(shown(outputs.database_url)):
        return list(db.execute(sql, args or None).fetchall())


def test_connect(db: Any, measure: Measure, outputs: StackOutputs) -> None:
    assert query(db, measure, outputs, "select 1") == [(1,)]


def test_pgvector_distance(db: Any, measure: Measure, outputs: StackOutputs) -> None:
    rows = query(
        db,
        measure,
        outputs,
        "select '[1,2,3]'::vector <-> '[1,2,4]'::vector, "
        "format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "where a.attrelid = 'public.video_chunks'::regclass and a.attname = 'embedding'",
    )
    assert rows, "database: video_chunks.embedding is missing"
    distance, column_type = rows[0]
    assert abs(distance - 1.0) < 1e-9
    assert column_type.endswith("vector(1536)"), f"embedding is {column_type}, not vector(1536)"


def test_all_tables_present(db: Any, measure: Measure, outputs: StackOutputs) -> None:
    rows = query(
        db,
        measure,
        outputs,
        "select tablename from pg_tables where schemaname = 'public'",
    )
    missing = sorted(set(TABLES) - {r[0] for r in rows})
    assert not missing, f"database: missing table(s): {', '.join(missing)}"


def test_rls_enabled_everywhere(db: Any, measure: Measure, outputs: StackOutputs) -> None:
    rows = query(
        db,
        measure,
        outputs,
        "select c.relname, c.relrowsecurity from pg_class c join pg_namespace n "
        "on n.oid = c.relnamespace where n.nspname = 'public' and c.relname = any(%s)",
        list(TABLES),
    )
    without = sorted(name for name, enabled in rows if not enabled)
    assert not without, f"database: RLS disabled on: {', '.join(without)}"
    assert len(rows) == len(TABLES)


def test_achievements_seeded(db: Any, measure: Measure, outputs: StackOutputs) -> None:
    ((count,),) = query(db, measure, outputs, "select count(*) from public.achievements")
    assert count > 0, "database: achievements table is empty (seed migration not applied?)"


def test_migration_ledger_complete(db: Any, measure: Measure, outputs: StackOutputs) -> None:
    expected = {p.name.split("_", 1)[0] for p in Path(MIGRATIONS).glob("*.sql")}
    rows = query(db, measure, outputs, "select version from supabase_migrations.schema_migrations")
    missing = sorted(expected - {r[0] for r in rows})
    assert expected, f"no migration files found in {MIGRATIONS}"
    assert not missing, f"database: migration(s) not applied: {', '.join(missing)}"
