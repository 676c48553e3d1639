"""Security checks, all read-only and safe on prod: row level security as students and `anon`
see it (inside a transaction that is always rolled back), Redis refusing commands without a
password, and TLS required by cloud stacks for Postgres and Redis (the local stack, whose
services listen on this machine only, skips those with the reason).
"""

from __future__ import annotations

import math
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from smoke.checks import check, client
from smoke.checks.common import (
    Recorder,
    bounded,
    call_failed,
    connect_postgres,
    endpoint,
    fail_if_down,
    unreachable,
)
from smoke.clients import rls
from smoke.failures import CheckFailed, CheckSkipped
from smoke.outputs import StackOutputs
from smoke.redact import redact_url

TLS_SSLMODES = ("require", "verify-ca", "verify-full")
# Replies that prove Redis refused an unauthenticated client (ACL users may get NOPERM).
REDIS_REFUSALS = ("NOAUTH", "NOPERM", "WRONGPASS", "DENIED")
# How long the server itself keeps an abandoned RLS transaction open before rolling it back.
IDLE_IN_TRANSACTION_MS = 20_000
RLS_ROUND_TRIPS = 4  # preflight, seed, and each role switch with its read
RLS_FIX = "fix the policies or grants with a new file in supabase/migrations/"


def cloud_only(outputs: StackOutputs) -> None:
    """Skip, with the reason, on the local stack (its `target` output says where it runs)."""
    if outputs.is_local:
        raise CheckSkipped(
            "local stack (its services listen on this machine only): "
            "TLS is required of cloud stacks only"
        )


@dataclass(frozen=True)
class RlsDatabase:
    """A session that is never committed, its redacted target and the fix command."""

    conn: Any
    target: str
    fix: str
    url: str = ""
    timeout_s: float = 3.0


@client
def rls_db(outputs: StackOutputs, timeout_s: float) -> Iterator[RlsDatabase]:

    # Not opened read-only even with --read-only: the rows exist only inside a transaction
    # that is rolled back; the server rolls it back itself if this process dies or hangs.
    ms = int(timeout_s * 1000)
    settings = {
        "statement_timeout": str(ms),
        "lock_timeout": str(ms),
        "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS),
    }
    conn = connect_postgres(outputs, timeout_s, settings, autocommit=False)
    try:  # no `with conn:`, which would commit on a clean exit
        yield RlsDatabase(
            conn, redact_url(outputs.database_url), outputs.fix, outputs.database_url, timeout_s
        )
    finally:
        conn.close()


@contextmanager
def synthetic_people(db: RlsDatabase, run_id: str) -> Iterator[rls.People]:
    """`seeded`, within a client-side deadline: a few pipelined round trips, each within the
    statement timeout, so a backend that froze is cut and named instead of waited for."""
    try:
        deadline = RLS_ROUND_TRIPS * db.timeout_s
        with bounded(db.conn, deadline, "database: RLS check"), seeded(db, run_id) as people:
            yield people
    except TimeoutError as exc:
        db.conn.close()
        raise unreachable("database", "postgres", db.url, exc) from None


@contextmanager
def seeded(db: RlsDatabase, run_id: str) -> Iterator[rls.People]:
    """Two students of a creator, inserted in a transaction that is ALWAYS rolled back."""
    import psycopg

    people = rls.People.new(run_id)
    try:
        missing, reason = rls.preflight(db.conn)
        if missing:
            raise CheckFailed(
                f"database: cannot check RLS, missing table(s): {', '.join(missing)} "
                f"(run: {db.fix})"
            )
        if reason:
            raise CheckSkipped(f"database: RLS behaviour not checked: {reason}")
        rls.seed(db.conn, people, run_id)
        yield people
    except psycopg.errors.InsufficientPrivilege as exc:
        if "set role" in str(exc).lower():  # PG16+: membership without the SET option
            raise CheckSkipped(f"database: RLS behaviour not checked: {exc}") from None
        raise call_failed("database", "RLS check", db.target, exc) from None
    except psycopg.Error as exc:
        raise call_failed("database", "RLS check", db.target, exc) from None
    finally:
        try:
            db.conn.rollback()
        except psycopg.Error:
            db.conn.close()  # the server rolls back a transaction whose connection is gone


@check()
def test_rls_students_read_only_their_own_rows(
    rls_db: RlsDatabase, check: Recorder, run_id: str
) -> None:
    findings: list[str] = []
    tables = (*rls.STUDENT_TABLES, *rls.DRAFT_TABLES)
    with check.timed(rls_db.target), synthetic_people(rls_db, run_id) as people:
        for student in people.students:
            params = rls.student_params(people, student, tables)
            found = rls.seen_as(rls_db.conn, "authenticated", student.user_id, tables, params)
            findings += rls.student_findings(student, found)
    assert not findings, (
        f"database: row level security on {rls_db.target} is wrong: {'; '.join(findings)} "
        f"({RLS_FIX}, then: {rls_db.fix})"
    )


@check()
def test_rls_anon_reads_no_private_rows(rls_db: RlsDatabase, check: Recorder, run_id: str) -> None:
    tables = ("creators", *rls.DRAFT_TABLES, *rls.STUDENT_TABLES)
    with check.timed(rls_db.target), synthetic_people(rls_db, run_id) as people:
        with rls_db.conn.pipeline():
            rls.act_as(rls_db.conn, "anon", None)
            open_to_anon = rls.readable(rls_db.conn, tables)
        found = rls.seen(rls_db.conn, open_to_anon, rls.anon_params(people, open_to_anon))
    findings = rls.anon_findings(found)
    assert not findings, (
        f"database: anon (no JWT) on {rls_db.target}: {'; '.join(findings)} "
        f"({RLS_FIX}, then: {rls_db.fix})"
    )


def redis_replies(url: str, timeout_s: float, commands: list[list[str]]) -> list[str]:
    """The first reply line to each of `commands`, sent without any credentials (TLS for
    `rediss://`). Plain RESP on a socket: a client library would authenticate or say HELLO."""
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 6379
    raw = socket.create_connection((host, port), timeout=timeout_s)
    sock = (
        ssl.create_default_context().wrap_socket(raw, server_hostname=host)
        if parts.scheme == "rediss"
        else raw
    )
    replies: list[str] = []
    with sock:
        for command in commands:
            frame = f"*{len(command)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in command)
            sock.sendall(frame.encode())
            buffer = b""
            while b"\r\n" not in buffer:
                chunk = sock.recv(512)
                if not chunk:
                    raise ConnectionResetError("redis closed the connection without answering")
                buffer += chunk
            replies.append(buffer.split(b"\r\n", 1)[0].decode(errors="replace"))
    return replies


@check()
def test_redis_refuses_unauthenticated_commands(
    check: Recorder, outputs: StackOutputs, timeout_s: float, run_id: str
) -> None:
    url = outputs.redis_url
    commands = [["PING"], ["GET", f"smoke:{run_id}:noauth"]]
    with check.timed(f"{urlsplit(url).scheme}://{endpoint(url)}"):
        fail_if_down("cache", "redis", url, outputs)
        try:
            replies = redis_replies(url, timeout_s, commands)
        except OSError as exc:  # ssl.SSLError and socket timeouts included
            raise unreachable("cache", "redis", url, exc, outputs) from None
    answered = [
        f"{c[0]} -> {r[:40]!r}"
        for c, r in zip(commands, replies, strict=True)
        if not (r.startswith("-") and r[1:].split(" ", 1)[0] in REDIS_REFUSALS)
    ]
    assert not answered, (
        f"cache: redis at {endpoint(url)} runs commands without a password "
        f"({', '.join(answered)}); require one (requirepass or an ACL on the default user), "
        f"then: {outputs.fix}"
    )


def sslmode(url: str) -> str:
    """The `sslmode` a Postgres URL asks for ('' when it says nothing).

    >>> sslmode("postgresql://u@db.example:5432/postgres?sslmode=require")
    'require'
    """
    return parse_qs(urlsplit(url).query).get("sslmode", [""])[-1]


@check()
def test_postgres_url_requires_tls(check: Recorder, outputs: StackOutputs) -> None:
    cloud_only(outputs)
    url = outputs.database_url
    with check.timed(url):
        mode = sslmode(url)
    assert mode in TLS_SSLMODES, (
        f"database: the database_url output ({redact_url(url)}) has sslmode={mode or '<unset>'}, "
        f"so clients may connect without TLS; export it with ?sslmode=require (or verify-full), "
        f"then: {outputs.fix}"
    )


@check()
def test_postgres_refuses_plain_connections(
    check: Recorder, outputs: StackOutputs, timeout_s: float
) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    cloud_only(outputs)
    url = outputs.database_url
    params = {k: v for k, v in conninfo_to_dict(url).items() if k != "password"}
    # sslmode=disable, and require_auth=none: libpq stops at any password request, so no
    # credential ever crosses the plain connection.
    params |= {"sslmode": "disable", "gssencmode": "disable", "require_auth": "none"}
    with check.timed(url):
        try:
            plain = make_conninfo("", **params)
            psycopg.connect(plain, connect_timeout=max(2, math.ceil(timeout_s))).close()
            outcome = "let a plain connection in without any password"
        except psycopg.OperationalError as exc:
            text = str(exc).lower()
            if 'requirement "none" failed' in text:
                outcome = "accepted a plain connection (it asked for the password over it)"
            elif any(word in text for word in ("ssl", "encryption", "pg_hba")):
                return  # refused before authentication: TLS is required
            else:
                raise unreachable("database", "postgres", url, exc, outputs) from None
    raise CheckFailed(
        f"database: postgres at {endpoint(url)} {outcome}: TLS is not enforced; enable SSL "
        f"enforcement (Supabase: the project's ssl_enforced), then: {outputs.fix}"
    )


@check()
def test_redis_url_requires_tls(check: Recorder, outputs: StackOutputs) -> None:
    cloud_only(outputs)
    url = outputs.redis_url
    with check.timed(url):
        scheme = urlsplit(url).scheme
    assert scheme == "rediss", (
        f"cache: the redis_url output ({redact_url(url)}) is {scheme}://, not rediss:// (TLS); "
        f"turn TLS on for the Redis database, then: {outputs.fix}"
    )
