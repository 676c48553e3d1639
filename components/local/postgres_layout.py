"""Where a local Postgres server's files live inside its data dir, and the archiving options
that put finished WAL segments where the backup archiver uploads them from."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from components.local import processes
from components.local.errors import LocalServerError, where_to_set

if TYPE_CHECKING:
    from components.local.postgres_server import PostgresSettings

SERVICE = "postgres"
PID_FILE = "pgdata/postmaster.pid"  # inside the data dir
# sun_path of a Unix socket holds 107 bytes; postgres refuses a longer socket path.
MAX_SOCKET_PATH = 107
WAL_SPOOL = "wal-spool"  # inside the data dir: archived segments the backup archiver uploads
LEAN_OPTIONS = " -c io_method=sync -c max_logical_replication_workers=0"
"""pg_ctl options that spare a stack's server four idle processes (~50 MB resident): PostgreSQL
18's three I/O workers (synchronous reads are plenty for one app) and the logical replication
launcher (nothing here subscribes)."""


def archiving_options(layout: PostgresLayout, timeout_s: int) -> str:
    """pg_ctl options that archive every finished WAL segment into the spool folder (copied,
    then renamed: the archiver uploads only whole files), switching after `timeout_s`."""
    if timeout_s <= 0:
        return ""
    spool = shlex.quote(str(layout.wal_spool))
    command = f"cp %p {spool}/.%f.tmp && mv -f {spool}/.%f.tmp {spool}/%f"
    options = ["archive_mode=on", f"archive_timeout={timeout_s}", f"archive_command={command}"]
    return "".join(f" -c {shlex.quote(option)}" for option in options)


class PostgresLayout:
    """Owns where a local Postgres server's files live inside its data dir."""

    def __init__(self, s: PostgresSettings) -> None:
        self.root = processes.guarded_data_dir(SERVICE, str(s.data_dir), s.hints)
        self.pgdata = self.root / "pgdata"
        self.sockets = self.root / "run"
        self.log = self.root / "postgres.log"
        self.pid_file = self.root / PID_FILE
        self.wal_spool = self.root / WAL_SPOOL
        self.hints = s.hints

    def socket_dir(self, port: int) -> str:
        if len(str(self.sockets / f".s.PGSQL.{port}")) > MAX_SOCKET_PATH:
            where = where_to_set(self.hints, "data_dir", "the server's data folder")
            raise LocalServerError(
                f"postgres: socket path under {self.sockets} exceeds {MAX_SOCKET_PATH} bytes; "
                f"set {where} to a shorter folder",
                service=SERVICE,
                setting="data_dir",
            )
        return shlex.quote(str(self.sockets))  # pg_ctl hands -o to a shell
