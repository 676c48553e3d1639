"""`mentora-infra drill <cloud stack>`: copy the database read-only into a scratch Postgres and
run the drill proofs on the copy.

1. A scratch server (recovery.scratch) gets the Supabase stand-ins the migrations expect (the
   local shim: API roles, `auth.uid()`, `auth.users`; pgvector in `extensions`).
2. On the source, one `repeatable read, read only` transaction exports its snapshot
   (`pg_export_snapshot()`), reads the expected facts (migration ledger, per-table row counts)
   and the `auth.users` ids the foreign keys need (ids only: no e-mail leaves the source).
3. `pg_dump --snapshot=<that snapshot>` (its own transactions are read-only too) dumps the
   schemas `public`, `private` and `supabase_migrations` without owners or grants; the source
   transaction ends once the dump is complete; `pg_restore --exit-on-error` loads it.
4. The proofs run on the copy against the facts of the same snapshot: equal by construction,
   unless the copy is not faithful.

Through Supabase's pooler, the source is reached in session mode (port 5432, as the Supabase
CLI does for migrations: supabase/cli internal/link/link.go), since a snapshot cannot be shared
across a transaction pooler's backends. The password goes to pg_dump in `PGPASSWORD`, never on a
command line; every message is redacted.

>>> report = run("prod", outputs.database_url)  # doctest: +SKIP
>>> report.exit_code()
0
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.cloud.supabase_db import SESSION_PORT, TRANSACTION_PORT
from recovery import facts, proofs
from recovery.report import DrillReport
from recovery.scratch import Scratch, scratch_postgres
from smoke.redact import redact_url

SHIM_SQL = (
    Path(__file__).resolve().parents[1] / "components" / "local" / "sql" / "supabase_shim.sql"
)
SCHEMAS = ("public", "private", "supabase_migrations")
DATABASE = "mentora"
METHOD = "pg_dump copy (read-only)"
DUMP_TIMEOUT_S = 1800.0
CONNECT_TIMEOUT_S = 15
_ENV_OF = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "dbname": "PGDATABASE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
}


class DrillStepError(RuntimeError):
    """A drill step failed: `step` names it, the message is redacted."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step


def source_params(url: str) -> dict[str, str]:
    """libpq parameters of the source URL, switched to the pooler's session mode when the URL
    is Supavisor's transaction mode; ValueError for a parameter pg_dump cannot get from env."""
    from psycopg.conninfo import conninfo_to_dict

    params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    unknown = sorted(set(params) - set(_ENV_OF))
    if unknown:
        raise ValueError(f"the database URL has parameters the drill cannot pass on: {unknown}")
    if params.get("host", "").endswith(".pooler.supabase.com") and params.get("port") == str(
        TRANSACTION_PORT
    ):
        params["port"] = str(SESSION_PORT)
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
    return params


def libpq_env(params: dict[str, str]) -> dict[str, str]:
    """The PG* variables of `params` (the password in PGPASSWORD) plus a minimal PATH."""
    return {"PATH": "/usr/bin:/bin", **{_ENV_OF[k]: v for k, v in params.items()}}


def dump_command(scratch: Scratch, snapshot: str, out: Path) -> list[str]:
    """pg_dump's arguments: the connection comes from the environment, never from here."""
    command = [str(scratch.bin("pg_dump")), "--format=custom", f"--snapshot={snapshot}"]
    command += ["--no-owner", "--no-privileges", "--no-publications", "--no-subscriptions"]
    command += ["--no-security-labels", f"--file={out}"]
    for schema in SCHEMAS:
        command += ["--schema", schema]
    return command


@dataclass(frozen=True)
class Snapshot:
    """An open read-only transaction on the source and the snapshot pg_dump will copy."""

    conn: Any
    id: str
    taken_at: datetime


@contextlib.contextmanager
def source_snapshot(params: dict[str, str]) -> Iterator[Snapshot]:
    """A `repeatable read, read only` transaction on the source, its snapshot exported; it
    stays open (the snapshot with it) until the block ends."""
    import psycopg

    try:
        conn: Any = psycopg.connect(**params, autocommit=True)  # type: ignore[arg-type]
    except psycopg.Error as exc:
        raise DrillStepError("connect to the source", _first_line(exc)) from None
    with conn:
        conn.execute("set statement_timeout = '10min'")
        conn.execute("begin isolation level repeatable read, read only")
        row = conn.execute("select pg_export_snapshot(), clock_timestamp()").fetchone()
        try:
            yield Snapshot(conn=conn, id=str(row[0]), taken_at=row[1].astimezone(UTC))
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("rollback")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _run(step: str, command: list[str], env: dict[str, str], secrets: list[str]) -> str:
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=DUMP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise DrillStepError(step, f"did not finish within {DUMP_TIMEOUT_S:.0f}s") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-600:]
        for secret in secrets:
            detail = detail.replace(secret, "***")
        raise DrillStepError(step, f"exit {done.returncode}: {detail}")
    return done.stdout


def restore_list(toc: str) -> str:
    """pg_restore's table of contents without `CREATE SCHEMA public` (every database has it;
    pg_dump lists it when `public` is dumped by name)."""
    return "\n".join(
        line for line in toc.splitlines() if not re.search(r"\bSCHEMA - public\b", line)
    )


def prepare_scratch(scratch: Scratch, user_ids: list[Any]) -> None:
    """The Supabase stand-ins the source's schema refers to, before the dump is loaded."""
    scratch.create_database(DATABASE)
    with scratch.connect(DATABASE) as conn:
        conn.execute(SHIM_SQL.read_text())
        conn.execute("create extension if not exists vector with schema extensions")
        with conn.cursor() as cur, cur.copy("copy auth.users (id) from stdin") as copy:
            for user_id in user_ids:
                copy.write_row((user_id,))


def probe_source(params: dict[str, str]) -> None:
    """Connect once and leave, before a scratch server is made: a wrong URL or password fails
    in seconds, and the source's snapshot is held only while it is needed."""
    import psycopg

    try:
        with psycopg.connect(**params) as conn:  # type: ignore[arg-type]
            conn.execute("select 1")
    except psycopg.Error as exc:
        raise DrillStepError("connect to the source", _first_line(exc)) from None


def copy_and_prove(report: DrillReport, url: str, scratch: Scratch, started: float) -> None:
    """Steps 2-4 of the module doc, filling `report` (restore time counts from `started`: the
    scratch server's own start is part of recovering)."""
    params = source_params(url)
    secrets = [params["password"]] if params.get("password") else []
    dump_file = scratch.base / "source.dump"
    with source_snapshot(params) as snap:
        expected = facts.read_expected(snap.conn)
        user_ids = [r[0] for r in snap.conn.execute("select id from auth.users").fetchall()]
        report.recovery_point = snap.taken_at
        prepare_scratch(scratch, user_ids)
        command = dump_command(scratch, snap.id, dump_file)
        _run("pg_dump", command, libpq_env(params), secrets)
    local_env = {"PATH": "/usr/bin:/bin", **scratch.libpq_env(DATABASE)}
    toc_command = [str(scratch.bin("pg_restore")), "--list", str(dump_file)]
    toc = _run("pg_restore --list", toc_command, local_env, [])
    listing = scratch.base / "restore.list"
    listing.write_text(restore_list(toc))
    restore = [str(scratch.bin("pg_restore")), "--exit-on-error", "--no-owner"]
    restore += ["--no-privileges", f"--use-list={listing}", f"--dbname={DATABASE}"]
    _run("pg_restore", [*restore, str(dump_file)], local_env, [])
    report.restore_s = time.monotonic() - started
    report.recovery_point_age_s = (datetime.now(UTC) - snap.taken_at).total_seconds()
    started = time.monotonic()
    with scratch.connect(DATABASE, timeout_s=600) as conn:
        report.proofs = proofs.run_all(
            conn, expected, pg_bin=scratch.bin("pg_dump").parent, env=scratch.libpq_env(DATABASE)
        )
    report.verify_s = time.monotonic() - started


class DrillUsageError(ValueError):
    """Raised before anything is touched when the drill is asked what it cannot do."""


def run(
    stack: str, source_url: str, at: datetime | None = None, *, parent_dir: Path | None = None
) -> DrillReport:
    """Drill `stack` from `source_url` (the stack's `database_url` output, or any Postgres of
    the same schema); the report is returned at every ending, also on Ctrl-C (`interrupted`),
    after the scratch server is gone. `at` exists for the one `drill` command that also serves
    local stacks: a copy is always of now, so any `at` is refused (`DrillUsageError`, exit 2)."""
    if at is not None:
        raise DrillUsageError(
            f"drill {stack}: a cloud drill copies the database as it is now, so --at does not "
            f"apply; drop --at (to rewind the project itself: mentora-infra cloud restore {stack} "
            "--to TIME)"
        )
    report = DrillReport(stack=stack, method=METHOD, source=redact_url(source_url))
    report.notes.append("a logical copy replays no WAL: replay is 0")
    started = time.monotonic()
    try:
        probe_source(source_params(source_url))
        with scratch_postgres(parent_dir=parent_dir) as scratch:
            copy_and_prove(report, source_url, scratch, started)
    except KeyboardInterrupt:
        report.ended = "interrupted"
    except DrillStepError as exc:
        report.ended = _scrub(f"failed: {exc}", source_url)
    except Exception as exc:  # any other failure still ends in a true report
        report.ended = _scrub(f"failed: {type(exc).__name__}: {_first_line(exc)}", source_url)
    return report


def _scrub(text: str, url: str) -> str:
    """`text` without the URL's password (in clear or URL-encoded) or the URL itself."""
    from urllib.parse import unquote, urlsplit

    with contextlib.suppress(ValueError):
        password = urlsplit(url).password
        for secret in filter(None, (password, unquote(password or ""))):
            text = text.replace(secret, "***")
    return text.replace(url, redact_url(url))
