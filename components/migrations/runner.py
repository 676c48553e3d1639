"""Applies `supabase/migrations/*.sql` to Postgres and keeps Supabase's ledger (no Pulumi here).

Errors: components/migrations/errors.py; the files themselves: components/migrations/files.py.

Each file commits with its rows in `supabase_migrations.schema_migrations` (the Supabase CLI's
ledger: `supabase db push` agrees) and `.mentora_checksums` (edited history; CLI runs have none).

>>> apply(admin_url, Path("supabase/migrations")).applied  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from tenacity import RetryCallState, Retrying, retry_if_exception

from components.migrations.errors import (
    MigrationChecksumError,
    MigrationConnectError,
    MigrationError,
    MigrationFailedError,
    MigrationMissingError,
    MigrationNameError,
)
from components.migrations.files import (
    FILE_PATTERN,
    Migration,
    Statement,
    checksums,
    discover,
    split_statements,
)

if TYPE_CHECKING:
    from psycopg import Connection

CONNECT_TIMEOUT_S = 10
# The first connect of `apply` is retried this long: a database that just restarted (Supabase
# restarts it when SSL enforcement is applied) refuses connections for a while.
FIRST_CONNECT_DEADLINE_S = 120.0
# Reasons no retry can fix: fail at once.
_FINAL_REASONS = ("password authentication failed", "does not exist", "no pg_hba.conf entry")
LOCK_DEADLINE_S = 60.0
PROGRESS_EVERY_S = 5.0
# Serialises concurrent runs against one database (session-level advisory lock).
_LOCK_SQL = "select pg_try_advisory_lock(hashtextextended('mentora-migrations', 0))"
_RECORD_SQL = """
with ledger as (insert into supabase_migrations.schema_migrations (version, statements, name)
                values (%s, %s, %s))
insert into supabase_migrations.mentora_checksums (version, checksum) values (%s, %s)
"""
log = logging.getLogger(__name__)
_LEDGER_DDL = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
  version text not null primary key, statements text[], name text);
create table if not exists supabase_migrations.mentora_checksums (
  version text primary key, checksum text not null, applied_at timestamptz not null default now());
"""


class LedgerRow(NamedTuple):
    """What the database recorded for one version (checksum is None for Supabase CLI runs)."""

    name: str | None
    checksum: str | None


@dataclass(frozen=True)
class Plan:
    """What `apply` would do: the versions already applied, and the pending files in order."""

    applied: tuple[str, ...]
    pending: tuple[Migration, ...]


@dataclass(frozen=True)
class ApplyResult:
    """What one `apply` run did: versions applied now, files already applied, wall time."""

    applied: tuple[str, ...]
    skipped: int
    duration_s: float


def plan_against(migrations: list[Migration], ledger: dict[str, LedgerRow]) -> Plan:
    """Compare the files with the ledger; refuse edited or vanished history."""
    by_version = {m.version: m for m in migrations}
    vanished = sorted((v for v in ledger if v not in by_version), key=int)
    if vanished:
        files = ", ".join(f"{v}_{ledger[v].name or '?'}.sql" for v in vanished)
        raise MigrationMissingError(
            f"migrations: {files} applied to the database but missing from the migrations "
            "folder; restore the file(s): applied history must not change"
        )
    for version, row in sorted(ledger.items()):
        migration = by_version[version]
        if row.checksum is not None and row.checksum != migration.checksum:
            raise MigrationChecksumError(
                f"migrations: {migration.path.name} was edited after it was applied "
                f"(sha256 {row.checksum[:12]}… recorded, {migration.checksum[:12]}… on disk); "
                "revert it and put the change in a new migration file"
            )
    return Plan(
        applied=tuple(m.version for m in migrations if m.version in ledger),
        pending=tuple(m for m in migrations if m.version not in ledger),
    )


def redact(url: str) -> str:
    """`host:port/dbname` of a connection URL: safe to show, no user and no password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:
        return "<unparseable database URL>"
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def _connect_once(url: str, timeout_s: int = CONNECT_TIMEOUT_S) -> Connection[tuple[object, ...]]:
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=timeout_s, autocommit=True)
    except psycopg.Error as exc:
        # libpq's last line says why (refused, timeout, auth failed); it never holds the password.
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        raise MigrationConnectError(
            f"migrations: cannot connect to {redact(url)} within {timeout_s}s: {reason}"
        ) from None


def _transient(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, MigrationConnectError) and not any(r in text for r in _FINAL_REASONS)


def connect(
    url: str,
    *,
    retry_deadline_s: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Connection[tuple[object, ...]]:
    """An autocommit connection; failures raise `MigrationConnectError` naming `redact(url)`.

    With `retry_deadline_s`, refused or timed-out connects are retried (1, 2, 4 ... 10 s apart,
    each failure logged) until that deadline; bad credentials fail at once.
    """
    if retry_deadline_s <= 0:
        return _connect_once(url)
    start, target = clock(), redact(url)

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "migrations: connect to %s attempt %d failed (%s); retrying in %.0fs "
            "(gives up after %.0fs)",
            target,
            state.attempt_number,
            str(error).rsplit(": ", 1)[-1],
            state.upcoming_sleep,
            retry_deadline_s,
        )

    def give_up(state: RetryCallState) -> Connection[tuple[object, ...]]:
        error = state.outcome.exception() if state.outcome else None
        reason = str(error).rsplit(": ", 1)[-1]
        raise MigrationConnectError(
            f"migrations: cannot connect to {target} within {retry_deadline_s:.0f}s "
            f"({state.attempt_number} attempts): {reason}; is the database up and does it "
            "accept connections from this machine?"
        )

    retrying = Retrying(
        retry=retry_if_exception(_transient),
        wait=lambda state: min(2.0 ** (state.attempt_number - 1), 10.0),
        stop=lambda state: clock() - start + state.upcoming_sleep > retry_deadline_s,
        sleep=sleep,
        before_sleep=log_retry,
        retry_error_callback=give_up,
        reraise=True,
    )
    return retrying(_connect_once, url)


def read_ledger(conn: Connection[tuple[object, ...]]) -> dict[str, LedgerRow]:
    """version -> LedgerRow; empty when the ledger does not exist yet (nothing is created)."""
    row = conn.execute(
        "select to_regclass('supabase_migrations.schema_migrations') is not null,"
        " to_regclass('supabase_migrations.mentora_checksums') is not null"
    ).fetchone()
    if not (row and row[0]):
        return {}
    # Without our checksum table, only the Supabase CLI migrated this database.
    checksum = "c.checksum" if row[1] else "null"
    join = "left join supabase_migrations.mentora_checksums c using (version)" if row[1] else ""
    rows = conn.execute(
        f"select m.version, m.name, {checksum} from supabase_migrations.schema_migrations m {join}"
    ).fetchall()
    return {str(v): LedgerRow(*(None if x is None else str(x) for x in (n, c))) for v, n, c in rows}


def plan(url: str, folder: Path) -> Plan:
    """What `apply` would do to the database at `url` (read-only: creates nothing)."""
    migrations = discover(folder)
    with connect(url) as conn:
        return plan_against(migrations, read_ledger(conn))


def applied_versions(url: str, timeout_s: int = CONNECT_TIMEOUT_S) -> list[str]:
    """Versions recorded in Supabase's ledger, in order (empty when there is no ledger); the
    connect and the read each bounded by `timeout_s`."""
    import psycopg

    with _connect_once(url, timeout_s) as conn:
        try:
            conn.execute(f"set statement_timeout = {int(timeout_s * 1000)}")
            return sorted(read_ledger(conn), key=int)
        except psycopg.OperationalError as exc:  # cancelled by the timeout, or the link broke
            raise MigrationConnectError(
                f"migrations: reading the ledger of {redact(url)} failed: {type(exc).__name__}"
            ) from None


def _lock(conn: Connection[tuple[object, ...]], url: str) -> None:
    deadline = time.monotonic() + LOCK_DEADLINE_S
    while not (row := conn.execute(_LOCK_SQL).fetchone()) or not row[0]:
        if time.monotonic() > deadline:
            raise MigrationConnectError(
                f"migrations: another run has held the migration lock on {redact(url)} for "
                f"over {LOCK_DEADLINE_S:g}s; wait for it to finish and retry"
            )
        time.sleep(0.25)


def _failure(migration: Migration, stmt: Statement | None, exc: Exception) -> MigrationFailedError:
    diag = getattr(exc, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(exc) or type(exc).__name__).strip()
    where = " while recording it in the ledger"
    if stmt is not None:
        line, position = stmt.line, str(getattr(diag, "statement_position", None) or "")
        if position.isdigit():  # syntax errors point at a character of the statement
            line = stmt.start_line + stmt.sql.count("\n", 0, int(position) - 1)
        where = f" at line {line}"
    parts = [f"migrations: {migration.path.name} failed{where} and was rolled back: {message}"]
    if sqlstate := getattr(diag, "sqlstate", None):
        parts.append(f"(SQLSTATE {sqlstate})")
    for label in ("detail", "hint"):
        if extra := getattr(diag, f"message_{label}", None):
            parts.append(f"{label}: {extra}")
    return MigrationFailedError(" ".join(parts))


class _Progress:
    """Prints `<file>: N of M statements (T s)` to stderr at most every `every_s` seconds."""

    def __init__(self, name: str, total: int, every_s: float) -> None:
        self.name, self.total, self.every_s = name, total, every_s
        self.start = self.last = time.monotonic()

    def tick(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.every_s and done < self.total:
            self.last = now
            print(
                f"migrations: {self.name}: {done:,} of {self.total:,} statements "
                f"({now - self.start:.0f}s)",
                file=sys.stderr,
                flush=True,
            )


def apply(url: str, folder: Path, progress_every_s: float = PROGRESS_EVERY_S) -> ApplyResult:
    """Apply every pending migration in version order, each file in its own transaction.

    A file's statements run one by one (as `supabase db push` does) so a failure names its
    line; the statements and both ledger rows commit together or not at all. A file still
    running after `progress_every_s` says how far it got, on stderr (shown by `pulumi up`),
    every `progress_every_s`: a 100,000-statement file took 86 s with nothing shown.
    """
    import psycopg

    start = time.monotonic()
    migrations = discover(folder)
    done: list[str] = []
    with connect(url, retry_deadline_s=FIRST_CONNECT_DEADLINE_S) as conn:
        _lock(conn, url)
        conn.execute(_LEDGER_DDL)
        current = plan_against(migrations, read_ledger(conn))
        for migration in current.pending:
            statements = split_statements(migration.sql)
            running: Statement | None = None
            progress = _Progress(migration.path.name, len(statements), progress_every_s)
            try:
                with conn.transaction():
                    for done_count, running in enumerate(statements, 1):
                        conn.execute(running.sql)
                        progress.tick(done_count)
                    running = None
                    version, sqls = migration.version, [s.sql for s in statements]
                    conn.execute(
                        _RECORD_SQL, (version, sqls, migration.name, version, migration.checksum)
                    )
            except psycopg.Error as exc:
                raise _failure(migration, running, exc) from None
            done.append(migration.version)
    return ApplyResult(tuple(done), len(current.applied), time.monotonic() - start)


__all__ = [
    "FILE_PATTERN",
    "ApplyResult",
    "LedgerRow",
    "Migration",
    "MigrationChecksumError",
    "MigrationConnectError",
    "MigrationError",
    "MigrationFailedError",
    "MigrationMissingError",
    "MigrationNameError",
    "Plan",
    "Statement",
    "apply",
    "applied_versions",
    "checksums",
    "connect",
    "discover",
    "plan",
    "plan_against",
    "read_ledger",
    "redact",
    "split_statements",
]
