"""`PostgresDatabase`: a database and the app's login in a Postgres cluster another stack runs.

A local review stack (`mentora:baseStack`, set by `mentora-infra review up`) runs no Postgres of
its own (~90 MB idle): it gets `CREATE DATABASE` in its base stack's cluster, made as the base
server makes its own (postgres_server.provision_app_database: the shim, APP_ROLE_SQL), with a
login of its own. Isolation, which tests/integration/test_review_stacks.py attacks:

- CONNECT (and TEMPORARY) on every database of the cluster is revoked from PUBLIC, the base's
  own included, so a stack's login reaches its own database only (granted by APP_ROLE_SQL);
- the login is no superuser and can create no role or database (APP_ROLE_CREATE_SQL).

- create: the login, the database, the shim and the grants (re-running converges);
- read: gone when the database or the login is missing (a refresh then recreates it, migrated
  from zero); the state's when the cluster does not answer (its own stack restarts it);
- delete: the database (its sessions ended: `WITH (FORCE)`) and the login (`drop`, which
  `review down` calls by name too, without the stack's state).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.local.errors import LocalServerError
from components.local.postgres_server import provision_app_database

SERVICE = "postgres"
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 2  # a refresh must not wait long on a cluster that is down
REPLACE_KEYS = ("database", "app_user")
"""A new base server address (its port moved, its data with it) is an update, not a replace:
the old address no longer answers a delete, and the database is still there at the new one."""
TENANT_LOCK = 0x6D656E746F7261  # "mentora": the advisory lock key of tenant creates and drops
TURN_WAIT_S = 60.0
SECRET_OUTPUTS = ("admin_url", "app_password", "database_admin_url", "app_url")


def with_database(url: str, database: str, user: str = "", password: str = "") -> str:
    """`url` (postgresql://user:pw@host:port/db) naming `database`, and `user`/`password` when
    given."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if user:
        netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, ""))


def cluster(url: str) -> str:
    """The cluster a URL points at (host:port): a new one replaces the database."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def _connect(admin_url: str, database: str, timeout_s: int = CONNECT_TIMEOUT_S) -> Any:
    import psycopg

    return psycopg.connect(
        with_database(admin_url, database), connect_timeout=timeout_s, autocommit=True
    )


@contextlib.contextmanager
def one_at_a_time(conn: Any) -> Iterator[None]:
    """Hold the cluster's tenant lock (a session advisory lock) on `conn`: creates and drops
    touch the same catalog rows (CONNECT on every database, the shim's `alter role anon`), which
    PostgreSQL refuses to update at once ("tuple concurrently updated"). Bounded by
    `lock_timeout`."""
    conn.execute(f"set lock_timeout = '{int(TURN_WAIT_S)}s'")
    conn.execute("select pg_advisory_lock(%s)", (TENANT_LOCK,))
    try:
        yield
    finally:
        conn.execute("select pg_advisory_unlock(%s)", (TENANT_LOCK,))


def lock_out_public(conn: Any) -> None:
    """Revoke CONNECT and TEMPORARY on every database of the cluster from PUBLIC."""
    from psycopg import sql

    names = conn.execute("select datname from pg_database where not datistemplate").fetchall()
    for (name,) in names:
        conn.execute(
            sql.SQL("revoke connect, temporary on database {} from public").format(
                sql.Identifier(name)
            )
        )


def present(
    admin_url: str, database: str, app_user: str, timeout_s: int = READ_TIMEOUT_S
) -> list[str]:
    """Which of the database and the login the cluster has, in words (psycopg.Error when it
    does not answer)."""
    with _connect(admin_url, "postgres", timeout_s) as conn:
        row = conn.execute(
            "select exists(select 1 from pg_database where datname = %s),"
            " exists(select 1 from pg_roles where rolname = %s)",
            (database, app_user),
        ).fetchone()
    has_database, has_login = row if row else (False, False)
    return [f"database {database}"] * bool(has_database) + [f"role {app_user}"] * bool(has_login)


def drop(admin_url: str, database: str, app_user: str) -> None:
    """Drop the database (ending its sessions) and the login, if they exist."""
    from psycopg import sql

    with _connect(admin_url, "postgres") as conn, one_at_a_time(conn):
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
        )
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(app_user)))


class PostgresDatabaseProvider(ResourceProvider):
    """Creates, reads and drops one database and its login in an existing cluster."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._made(props)
        return CreateResult(id_=f"{outs['cluster']}/{props['database']}", outs=outs)

    @staticmethod
    def _made(props: dict[str, Any]) -> dict[str, Any]:
        """Make (or converge) the database and login; the outputs, with a new password."""
        import psycopg

        admin_url, database, app = props["admin_url"], props["database"], props["app_user"]
        password = secrets.token_urlsafe(24)
        try:
            with _connect(admin_url, "postgres") as conn, one_at_a_time(conn):
                provision_app_database(
                    lambda dbname: _connect(admin_url, dbname), database, app, password
                )
                lock_out_public(conn)
        except psycopg.Error as exc:
            raise LocalServerError(
                f"postgres: cannot make database {database} in the base stack's cluster at "
                f"{cluster(admin_url)} ({str(exc).strip()}); is the base stack up (make up)? "
                "Then run the review stack's up again",
                service=SERVICE,
            ) from None
        return {
            **props,
            "cluster": cluster(admin_url),
            "app_password": password,
            "database_admin_url": with_database(admin_url, database),
            "app_url": with_database(admin_url, database, app, password),
        }

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in REPLACE_KEYS if olds.get(key) != news.get(key)]
        changed = replaces or olds.get("admin_url") != news["admin_url"]
        return DiffResult(
            changes=bool(changed), replaces=replaces, delete_before_replace=bool(replaces)
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("cluster") == cluster(news["admin_url"]):  # only the admin's password moved
            outs = {**olds, "admin_url": news["admin_url"]}
            outs["database_admin_url"] = with_database(news["admin_url"], olds["database"])
            return UpdateResult(outs=outs)
        return UpdateResult(outs=self._made(news))  # moved: converge there (data kept)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        import psycopg

        try:
            found = present(props["admin_url"], props["database"], props["app_user"])
        except psycopg.Error:
            return ReadResult(id_=id_, outs=props)  # down: its own stack restarts it
        whole = len(found) == 2
        return ReadResult(id_=id_ if whole else "", outs=props if whole else {})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        drop(props["admin_url"], props["database"], props["app_user"])


class PostgresDatabase(Resource):
    """One database and its app login in the cluster `admin_url` (a superuser's) points at."""

    app_url: pulumi.Output[str]
    """The app login's URL (secret)."""
    database_admin_url: pulumi.Output[str]
    """The superuser's URL of this database, for its migrations (secret)."""

    def __init__(
        self,
        name: str,
        *,
        admin_url: pulumi.Input[str],
        database: str,
        app_user: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "admin_url": pulumi.Output.secret(admin_url),
            "database": database,
            "app_user": app_user,
            "cluster": None,
            "app_password": None,
            "database_admin_url": None,
            "app_url": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        super().__init__(
            PostgresDatabaseProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret)
        )
