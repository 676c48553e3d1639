"""The app's Postgres credentials as managed settings: the login the state names logs in with
the state's password, and no other login of the app's pair can log in at all.

The app logs in as its role (`mentora_app`) until its first `mentora-infra rotate`, then as
`mentora_app_a` or `mentora_app_b` in turn (members of it; rotation/kinds/database.py). Both the
rotation and `repair` make a login with `set_login`, so the two cannot differ. What these
settings catch: a password changed out of band, and a database restored to a time before a
rotation (`mentora-infra restore`), whose catalog brings back the login the rotation revoked and
lacks the one the state names; `repair` (run by `up`) puts the state's back in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.local import processes

Managed = dict[str, str]
LOGS_IN = "the stack's password logs in"
NONE = "none"


def logins(group: str) -> tuple[str, str, str]:
    """Every role the app may log in as: the group itself (before the first rotation) and the
    two alternating members.

    >>> logins("mentora_app")
    ('mentora_app', 'mentora_app_a', 'mentora_app_b')
    """
    return group, f"{group}_a", f"{group}_b"


def expected() -> Managed:
    return {"app login": LOGS_IN, "other app logins": NONE}


def observe(conn: Any, login: str, app: str, logs_in: Callable[[], str]) -> Managed:
    """`logs_in()`: LOGS_IN, or the server's refusal of the state's login and password."""
    others = [role for role in logins(app) if role != login]
    rows = conn.execute(
        "select rolname from pg_roles where rolcanlogin and rolname = any(%s) order by rolname",
        (others,),
    ).fetchall()
    return {"app login": logs_in(), "other app logins": ",".join(r[0] for r in rows) or NONE}


def logs_in(port: int, login: str, password: str, database: str, timeout_s: float = 2.0) -> str:
    """LOGS_IN when `login` and `password` log in now, else the server's refusal (it names the
    role, never the password)."""
    import psycopg

    try:
        with psycopg.connect(
            host=processes.HOST,
            port=port,
            user=login,
            password=password,
            dbname=database,
            connect_timeout=max(2, round(timeout_s)),  # libpq's floor is 2 s
        ):
            return LOGS_IN
    except psycopg.OperationalError as exc:
        fatal = [line for line in str(exc).splitlines() if "FATAL:" in line]
        return "refused: " + (fatal or [str(exc).splitlines()[-1]])[0].split("FATAL:")[-1].strip()


def verifier(conn: Any, role: str, password: str) -> str:
    """`password` as the SCRAM-SHA-256 verifier the server stores (libpq's
    PQencryptPasswordConn): what `... PASSWORD` is given, so a statement the server logs
    (`log_statement`, or any failing one at the default `log_min_error_statement`) never
    carries the password itself."""
    hashed = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    return bytes(hashed).decode()


def set_login(conn: Any, login: str, app: str, password: str) -> None:
    """Make `login` log in with `password`: the app role itself keeps its attributes; a member
    login is created (or altered) holding nothing of its own, in the app role, its sessions
    starting as it (`current_user`, RLS and ownership unchanged). As a non-superuser (a
    Supabase project's `postgres`) an existing login is not re-stripped: only a superuser may
    name SUPERUSER or REPLICATION in ALTER ROLE, and a role it created holds neither."""
    from psycopg import sql

    role, group = sql.Identifier(login), sql.Identifier(app)
    if login == app:
        secret = sql.Literal(verifier(conn, login, password))
        conn.execute(sql.SQL("alter role {} login password {}").format(role, secret))
        return
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (login,)).fetchone()
    superuser = conn.execute("select rolsuper from pg_roles where rolname = current_user")
    stripped = " nosuperuser nocreatedb nocreaterole nobypassrls noreplication"
    conn.execute(
        sql.SQL(
            ("alter" if exists else "create")
            + " role {} login password {}"
            + (stripped if not exists or superuser.fetchone()[0] else "")
        ).format(role, sql.Literal(verifier(conn, login, password)))
    )
    conn.execute(sql.SQL("grant {} to {} with inherit true, set true").format(group, role))
    conn.execute(sql.SQL("alter role {} set role to {}").format(role, group))


def disable_others(conn: Any, keep: str, app: str) -> list[tuple[str, bool]]:
    """Every login of the pair but `keep` made NOLOGIN without a password; each such role that
    exists, and whether it could log in before."""
    from psycopg import sql

    others = [role for role in logins(app) if role != keep]
    rows = conn.execute(
        "select rolname, rolcanlogin from pg_roles where rolname = any(%s) order by rolname",
        (others,),
    ).fetchall()
    for role, _ in rows:
        conn.execute(sql.SQL("alter role {} nologin password null").format(sql.Identifier(role)))
    return [(role, bool(could)) for role, could in rows]


def repair(conn: Any, login: str, app: str, password: str) -> None:
    """The state's login with the state's password; every other login of the pair NOLOGIN
    without a password (one transaction)."""
    with conn.transaction():
        set_login(conn, login, app, password)
        disable_others(conn, login, app)
