"""Database checks: connection, pgvector, the guide's 15 tables, RLS, seeds, migration ledger."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from smoke.checks import check, client
from smoke.checks.common import Recorder, bounded, call_failed, connect_postgres, unreachable
from smoke.failures import CheckFailed
from smoke.guide import EMBEDDING_COLUMN, EMBEDDING_DIMENSIONS, EMBEDDING_TABLE, GUIDE_TABLES
from smoke.outputs import PROJECT_ROOT, StackOutputs, schema_fix_for
from smoke.redact import redact_url

MIGRATIONS = PROJECT_ROOT / "supabase" / "migrations"
_MIGRATION_FILE = re.compile(r"^(\d+)_.+\.sql$")


@dataclass(frozen=True)
class Database:
    """An open autocommit session and its redacted target."""

    conn: Any
    target: str
    fix: str
    schema_fix: str
    url: str
    timeout_s: float

    def rows(self, check: Recorder, query: Any, *args: Any) -> list[Any]:
        """Run one query within the statement timeout and a client-side deadline (a frozen
        backend), timed; a driver error fails the check."""
        import psycopg

        with check.timed(self.target):
            try:
                with bounded(self.conn, self.timeout_s, "database: query"):
                    return list(self.conn.execute(query, args or None).fetchall())
            except TimeoutError as exc:
                raise unreachable("database", "postgres", self.url, exc) from None
            except psycopg.Error as exc:
                raise call_failed("database", "query", self.target, exc) from None


@client
def db(outputs: StackOutputs, timeout_s: float, read_only: bool) -> Iterator[Database]:

    settings = {"statement_timeout": str(int(timeout_s * 1000))}
    if read_only:
        settings["default_transaction_read_only"] = "on"  # the server itself refuses writes
    conn = connect_postgres(outputs, timeout_s, settings, autocommit=True)
    with conn:
        target = redact_url(outputs.database_url)
        yield Database(
            conn, target, outputs.fix, schema_fix_for(outputs), outputs.database_url, timeout_s
        )


def vector_schema(db: Database, check: Recorder) -> str:
    """The schema pgvector lives in (Supabase: `extensions`); fails when it is not installed."""
    rows = db.rows(
        check,
        "select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace "
        "where e.extname = 'vector'",
    )
    if not rows:
        raise CheckFailed(f"database: the pgvector extension is not installed ({db.schema_fix})")
    return str(rows[0][0])


@check()
def test_connect(db: Database, check: Recorder) -> None:
    assert db.rows(check, "select 1") == [(1,)]


@check()
def test_pgvector_distance(db: Database, check: Recorder) -> None:
    from psycopg import sql

    # The type and its operators are schema-qualified: no search_path is assumed.
    query = sql.SQL("select '[1,2,3]'::{s}.vector OPERATOR({s}.<->) '[1,2,4]'::{s}.vector").format(
        s=sql.Identifier(vector_schema(db, check))
    )
    ((distance,),) = db.rows(check, query)
    assert abs(float(distance) - 1.0) < 1e-9, f"database: pgvector L2 distance is {distance}, not 1"


@check()
def test_embedding_column_is_vector_1536(db: Database, check: Recorder) -> None:
    schema = vector_schema(db, check)
    rows = db.rows(
        check,
        "select t.typname, tn.nspname, format_type(a.atttypid, a.atttypmod) "
        "from pg_attribute a join pg_type t on t.oid = a.atttypid "
        "join pg_namespace tn on tn.oid = t.typnamespace "
        "where a.attrelid = to_regclass(%s) and a.attname = %s and not a.attisdropped",
        f"public.{EMBEDDING_TABLE}",
        EMBEDDING_COLUMN,
    )
    assert rows, f"database: column {EMBEDDING_TABLE}.{EMBEDDING_COLUMN} is missing"
    typname, typschema, shown = rows[0]
    expected = f"vector({EMBEDDING_DIMENSIONS})"
    assert (typname, typschema) == ("vector", schema) and shown.endswith(expected), (
        f"database: {EMBEDDING_TABLE}.{EMBEDDING_COLUMN} is {shown}, not {schema}.{expected}"
    )


@check()
def test_all_tables_present(db: Database, check: Recorder) -> None:
    rows = db.rows(check, "select tablename from pg_tables where schemaname = 'public'")
    missing = [t for t in GUIDE_TABLES if t not in {r[0] for r in rows}]
    assert not missing, (
        f"database: missing table(s) in public: {', '.join(missing)} ({db.schema_fix})"
    )


@check()
def test_rls_enabled_everywhere(db: Database, check: Recorder) -> None:
    rows = db.rows(
        check,
        "select c.relname, c.relrowsecurity from pg_class c join pg_namespace n "
        "on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind in ('r', 'p') "
        "and c.relname = any(%s)",
        list(GUIDE_TABLES),
    )
    enabled = dict(rows)
    without = [t for t in GUIDE_TABLES if t in enabled and not enabled[t]]
    assert not without, f"database: row level security is disabled on: {', '.join(without)}"
    absent = [t for t in GUIDE_TABLES if t not in enabled]
    assert not absent, f"database: cannot check RLS of missing table(s): {', '.join(absent)}"


@check()
def test_achievements_seeded(db: Database, check: Recorder) -> None:
    ((count,),) = db.rows(
        check,
        "select case when to_regclass('public.achievements') is null then null "
        "else (select count(*) from public.achievements) end",
    )
    assert count is not None, "database: table achievements is missing"
    assert count > 0, f"database: achievements is empty (seed migration not applied? {db.fix})"


@check()
def test_migration_ledger_complete(db: Database, check: Recorder) -> None:
    files = {
        m.group(1): path.name
        for path in sorted(MIGRATIONS.glob("*.sql"))
        if (m := _MIGRATION_FILE.match(path.name))
    }
    assert files, f"database: no migration files in {MIGRATIONS}"
    ((ledger,),) = db.rows(
        check, "select to_regclass('supabase_migrations.schema_migrations') is not null"
    )
    assert ledger, (
        f"database: no ledger supabase_migrations.schema_migrations (migrations never applied? "
        f"run: {db.fix})"
    )
    rows = db.rows(check, "select version from supabase_migrations.schema_migrations")
    missing = [name for version, name in files.items() if version not in {r[0] for r in rows}]
    assert not missing, (
        f"database: migration(s) not in the ledger: {', '.join(missing)} (run: {db.fix})"
    )
