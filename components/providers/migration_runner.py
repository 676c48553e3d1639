"""Applies `supabase/migrations/*.sql` to a Postgres database and keeps Supabase's ledger.

Exception tree::

    MigrationError              base of everything raised here
    ├── MigrationNameError      a file in the folder does not match <version>_<name>.sql
    ├── MigrationChecksumError  an applied file was edited, or an applied file disappeared
    └── MigrationFailedError    a pending file failed; its transaction was rolled back

Each file runs in its own transaction together with its two ledger rows:
`supabase_migrations.schema_migrations(version, statements, name)` is the Supabase CLI's own
ledger (so `supabase db push` agrees with what ran here) and
`supabase_migrations.mentora_checksums(version, checksum)` detects edits to applied files.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

FILE_PATTERN = re.compile(r"^([0-9]+)_(.*)\.sql$")
CONNECT_TIMEOUT_S = 5

_LEDGER_DDL = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
  version text primary key, statements text[], name text
);
create table if not exists supabase_migrations.mentora_checksums (
  version text primary key, checksum text not null,
  applied_at timestamptz not null default now()
);
"""


class MigrationError(Exception):
    """Base class of migration errors."""


class MigrationNameError(MigrationError):
    """Raised when a file in the migrations folder is not named `<version>_<name>.sql`."""


class MigrationChecksumError(MigrationError):
    """Raised when an applied migration was edited or removed (history must not change)."""


class MigrationFailedError(MigrationError):
    """Raised when a pending migration fails; nothing of that file (nor its ledger rows) stays."""


@dataclass(frozen=True)
class Migration:
    """One migration file: version, name, SQL text and its sha256."""

    version: str
    name: str
    path: Path
    sql: str
    checksum: str


@dataclass(frozen=True)
class Plan:
    """What `apply` would do: the applied versions and the pending migrations, in order."""

    applied: tuple[str, ...]
    pending: tuple[Migration, ...]


@dataclass(frozen=True)
class ApplyResult:
    """What `apply` did."""

    applied: tuple[str, ...]
    """Versions applied by this run."""
    skipped: int
    """Migrations already in the ledger."""
    seconds: float


def discover(folder: Path) -> list[Migration]:
    """Every `*.sql` file of `folder`, sorted by version; bad names raise `MigrationNameError`."""
    migrations: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationNameError(
                f"migrations: {path.name} is not named <version>_<name>.sql "
                f"(e.g. 20251020100000_create_tables.sql); rename it"
            )
        sql = path.read_text(encoding="utf-8")
        digest = hashlib.sha256(sql.encode()).hexdigest()
        migrations.append(Migration(match.group(1), match.group(2), path, sql, digest))
    versions = [m.version for m in migrations]
    duplicates = sorted({v for v in versions if versions.count(v) > 1})
    if duplicates:
        raise MigrationNameError(f"migrations: version(s) {duplicates} used by several files")
    return sorted(migrations, key=lambda m: int(m.version))


def checksums(folder: Path) -> dict[str, str]:
    """version -> sha256 of every migration file (what a change to the folder looks like)."""
    return {m.version: m.checksum for m in discover(folder)}


def _ledger(conn: object) -> dict[str, str | None]:
    cur = conn.execute(  # type: ignore[attr-defined]
        "select m.version, c.checksum from supabase_migrations.schema_migrations m "
        "left join supabase_migrations.mentora_checksums c using (version)"
    )
    return {version: checksum for version, checksum in cur.fetchall()}


def plan_against(migrations: list[Migration], ledger: dict[str, str | None]) -> Plan:
    """Compare files with the ledger; refuse edited or vanished applied files."""
    by_version = {m.version: m for m in migrations}
    vanished = sorted(v for v in ledger if v not in by_version)
    if vanished:
        raise MigrationChecksumError(
            f"migrations: applied version(s) {vanished} have no file in the migrations folder; "
            "restore the file(s): applied history must not change"
        )
    for version, recorded in ledger.items():
        migration = by_version[version]
        if recorded is not None and recorded != migration.checksum:
            raise MigrationChecksumError(
                f"migrations: {migration.path.name} was edited after it was applied; "
                "revert it and put the change in a new migration file"
            )
    pending = tuple(m for m in migrations if m.version not in ledger)
    return Plan(applied=tuple(sorted(ledger, key=int)), pending=pending)


def connect(url: str) -> object:
    import psycopg

    return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)


def plan(url: str, folder: Path) -> Plan:
    """What would be applied to the database at `url`."""
    migrations = discover(folder)
    with connect(url) as conn:  # type: ignore[attr-defined]
        conn.execute(_LEDGER_DDL)
        return plan_against(migrations, _ledger(conn))


def apply(url: str, folder: Path) -> ApplyResult:
    """Apply every pending migration, each in its own transaction, in version order."""
    import psycopg
    import sqlparse

    start = time.monotonic()
    migrations = discover(folder)
    done: list[str] = []
    with connect(url) as conn:  # type: ignore[attr-defined]
        conn.execute(_LEDGER_DDL)
        current = plan_against(migrations, _ledger(conn))
        for migration in current.pending:
            statements = [s for s in sqlparse.split(migration.sql) if s.strip()]
            try:
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "insert into supabase_migrations.schema_migrations"
                        " (version, statements, name) values (%s, %s, %s)",
                        (migration.version, statements, migration.name),
                    )
                    conn.execute(
                        "insert into supabase_migrations.mentora_checksums (version, checksum)"
                        " values (%s, %s)",
                        (migration.version, migration.checksum),
                    )
            except psycopg.Error as exc:
                detail = exc.diag.message_primary or type(exc).__name__
                raise MigrationFailedError(
                    f"migrations: {migration.path.name} failed and was rolled back: {detail}"
                ) from None
            done.append(migration.version)
    return ApplyResult(tuple(done), len(current.applied), time.monotonic() - start)


def applied_versions(url: str) -> list[str]:
    """Versions in Supabase's ledger (empty when the ledger does not exist yet)."""
    with connect(url) as conn:  # type: ignore[attr-defined]
        exists = conn.execute(
            "select to_regclass('supabase_migrations.schema_migrations') is not null"
        ).fetchone()[0]
        if not exists:
            return []
        rows = conn.execute("select version from supabase_migrations.schema_migrations").fetchall()
    return sorted((r[0] for r in rows), key=int)
