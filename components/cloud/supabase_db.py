"""A Supabase project's Postgres endpoints, read from the pooler API, and its readiness probe.

`db.<ref>.supabase.co` is IPv6-only (GitHub-hosted runners are IPv4-only), and the shared
pooler's host shard (`aws-0-`, `aws-1-`, ...) is per project, so both URLs come from the
PRIMARY entry of `GET /v1/projects/{ref}/config/database/pooler`, never from a template:

- `transaction_url`: Supavisor in transaction mode (port 6543), the app's `DATABASE_URL`;
- `session_url`: Supavisor in session mode (port 5432), what migrations use. The Supabase CLI
  does the same (supabase/cli internal/link/link.go `updatePoolerConfig`: "Always use session
  mode for running migrations", replacing `:6543/` by `:5432/` in the PRIMARY entry).

`wait_connectable` polls a URL until Postgres accepts a connection (after the restart that
applying SSL enforcement triggers), with a deadline and one log line per failed attempt.

>>> pooler = parse_pooler(ref, api_answer)  # doctest: +SKIP
>>> session_url(password, pooler).split("@")[1]  # doctest: +SKIP
'aws-1-eu-central-1.pooler.supabase.com:5432/postgres?sslmode=require'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from components.cloud.errors import SupabaseDatabaseUnreachableError, SupabasePoolerError

SESSION_PORT = 5432  # Supavisor's session-mode port on the shared pooler host
TRANSACTION_PORT = 6543  # Supavisor's transaction-mode port
CONNECT_TIMEOUT_S = 10
READY_DEADLINE_S = 300.0
READY_POLL_S = 5.0

log = logging.getLogger(__name__)

Probe = Callable[[str], None]


@dataclass(frozen=True)
class Pooler:
    """The PRIMARY database's Supavisor endpoint as the API reports it (no password)."""

    host: str
    user: str
    database: str
    session_port: int = SESSION_PORT
    transaction_port: int = TRANSACTION_PORT


def parse_pooler(ref: str, answer: Any) -> Pooler:
    """The PRIMARY entry of the pooler API's answer; `SupabasePoolerError` when there is none.

    Entries follow `SupavisorConfigResponse` (supabase/cli pkg/api/types.gen.go): required
    `database_type` (PRIMARY | READ_REPLICA), `pool_mode` (session | transaction), `db_host`,
    `db_port`, `db_user`, `db_name`, `connection_string`. The entry's own port serves its own
    mode; the other mode is on the other standard port of the same host.
    """
    entries = [e for e in answer if isinstance(e, dict)] if isinstance(answer, list) else []
    primary = [e for e in entries if e.get("database_type") == "PRIMARY"]
    if not primary:
        kinds = sorted({str(e.get("database_type")) for e in entries}) or ["no entries"]
        raise SupabasePoolerError(ref, f"the pooler API reports no PRIMARY entry ({kinds})")
    by_mode = {str(e.get("pool_mode")): e for e in primary}
    chosen = by_mode.get("session") or by_mode.get("transaction") or primary[0]
    try:
        host, user = str(chosen["db_host"]), str(chosen["db_user"])
        database = str(chosen.get("db_name") or "postgres")
        ports = {mode: int(entry["db_port"]) for mode, entry in by_mode.items()}
    except (KeyError, TypeError, ValueError):
        raise SupabasePoolerError(
            ref, "the PRIMARY pooler entry lacks db_host, db_user or a numeric db_port"
        ) from None
    if not host or host == f"db.{ref}.supabase.co":
        raise SupabasePoolerError(
            ref, f"the PRIMARY pooler entry points at {host or '<empty>'}, not the shared pooler"
        )
    # The shared pooler finds the tenant by the user name, which must read postgres.<ref>.
    if host.endswith(".pooler.supabase.com") and "." not in user:
        user = f"{user}.{ref}"
    return Pooler(
        host=host,
        user=user,
        database=database,
        session_port=ports.get("session", SESSION_PORT),
        transaction_port=ports.get("transaction", TRANSACTION_PORT),
    )


def session_url(password: str, pooler: Pooler) -> str:
    """The session-mode pooler URL (migrations), TLS required."""
    return _postgres_url(pooler.user, password, pooler.host, pooler.session_port, pooler.database)


def transaction_url(password: str, pooler: Pooler) -> str:
    """The transaction-mode pooler URL (the app's `DATABASE_URL`), TLS required."""
    port = pooler.transaction_port
    return _postgres_url(pooler.user, password, pooler.host, port, pooler.database)


def login_url(url: str, login: str, ref: str, password: str) -> str:
    """`url` (a pooler URL) logging in as role `login` of project `ref` (`<role>.<ref>`, the
    pooler's user form), with `password`.

    >>> login_url("postgresql://postgres.r:pw@h:6543/postgres?sslmode=require", "a", "r", "p/w")
    'postgresql://a.r:p%2Fw@h:6543/postgres?sslmode=require'
    """
    parts = urlsplit(url)
    user = quote(f"{login}.{ref}", safe="")
    netloc = f"{user}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _postgres_url(user: str, password: str, host: str, port: int, database: str) -> str:
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
    return f"postgresql://{credentials}@{host}:{port}/{database}?sslmode=require"


def psycopg_probe(url: str) -> None:
    """Open one connection to `url` and run `select 1`; raises on failure."""
    import psycopg

    with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True) as conn:
        conn.execute("select 1")


def _reason(error: Exception) -> str:
    # libpq's last line says why (refused, timeout, SSL); it never holds the password.
    return (str(error).strip().splitlines() or [type(error).__name__])[-1]


def wait_connectable(
    ref: str,
    url: str,
    *,
    deadline_s: float = READY_DEADLINE_S,
    poll_s: float = READY_POLL_S,
    probe: Probe = psycopg_probe,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Probe `url` until it connects; the number of attempts. `SupabaseDatabaseUnreachableError`
    (naming host:port and the deadline) when it does not connect within `deadline_s`."""
    target = url.rsplit("@", 1)[-1].split("/", 1)[0]
    start, attempt = clock(), 0
    while True:
        attempt += 1
        try:
            probe(url)
            return attempt
        except Exception as exc:  # noqa: BLE001 (any driver error means "not yet")
            reason = _reason(exc)
        elapsed = clock() - start
        if elapsed + poll_s > deadline_s:
            raise SupabaseDatabaseUnreachableError(ref, target, deadline_s, reason)
        log.warning(
            "supabase: connect to %s attempt %d failed (%s); retrying in %.0fs (gives up after "
            "%.0fs)",
            target,
            attempt,
            reason,
            poll_s,
            deadline_s,
        )
        sleep(poll_s)
