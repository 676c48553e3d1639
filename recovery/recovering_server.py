"""A Postgres server recovering a base backup plus archived WAL to a point in time.

It runs in a folder of its own (the drill's scratch folder; for `restore`, the stack's own
Postgres folder), as the OS user that folder's server uses when we are root, on its own Unix
socket in that folder (no TCP port to race for), with archiving off (a drill never writes into
the stack's archive) unless told to spool. WAL reaches it
through `restore_command`: a shell script that waits for the feeder (recovery/archive_reader.py)
to put the requested segment in `wal-in/` and moves it into place; history files are copied
without waiting. `stop()` ends it (SIGINT: fast shutdown, then SIGKILL of its session), and the
drill removes the folder and the OS user whatever happened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tarfile
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from components.local.backup_daemon import pg_bin
from components.local.unix_user import prepare_for_service_user, run_as
from recovery.errors import DrillFailed

if TYPE_CHECKING:
    from recovery.archive_reader import Feeder

WAIT_PER_FILE_S = 60  # restore_command gives up on a segment the feeder never delivers
RESTORE_SH = """#!/bin/sh
# $1 = %f (file wanted), $2 = %p (where postgres wants it)
IN={wal_in}
case "$1" in
  *.history|*.backup|*.partial) test -f "$IN/$1" && cp "$IN/$1" "$2"; exit $? ;;
esac
i=0
while [ ! -f "$IN/$1" ]; do
  [ -f "$IN/END" ] && exit 1
  i=$((i+1)); [ $i -gt {tries} ] && exit 1
  sleep 0.05
done
mv -f "$IN/$1" "$2"
"""


# The bound on one recovery (the whole local drill takes ~11 s in bench/): past it, it is stuck.
RECOVERY_DEADLINE_S = 300.0
# The socket file's name (.s.PGSQL.<port>) in the server's own folder: no TCP port is bound.
SOCKET_PORT = 5432


class RecoveringServer:
    """Owns one recovering Postgres process in `root` (pgdata, wal-in, its log)."""

    def __init__(self, root: Path, spool: Path | None = None) -> None:
        self.root, self.spool = root, spool
        self.port = SOCKET_PORT
        self.socket_dir = root / "run"
        self.pgdata = root / "pgdata"
        self.wal_in = root / "wal-in"
        self.log = root / "recovery.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def prepare(self, base_tar: Path) -> tuple[int, int]:
        """Unpack the base backup, write the restore script and recovery.signal; the uid and
        gid the server runs as (-1, -1 when we are not root)."""
        self.pgdata.mkdir(mode=0o700)
        with tarfile.open(base_tar, "r:gz") as tar:
            tar.extractall(self.pgdata, filter="data")
        self.pgdata.chmod(0o700)
        self.wal_in.mkdir(mode=0o700, exist_ok=True)
        script = self.root / "restore.sh"
        script.write_text(RESTORE_SH.format(wal_in=self.wal_in, tries=int(WAIT_PER_FILE_S / 0.05)))
        script.chmod(0o700)
        (self.pgdata / "recovery.signal").touch()
        prepare_for_service_user(self.root, [Path(pg_bin("postgres")).parent.parent])
        user = run_as(self.root)
        if user:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, user["user"], user["group"], follow_symlinks=False)
            return user["user"], user["group"]
        return -1, -1

    def start(self, target: datetime) -> None:
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        command = [pg_bin("postgres"), "-D", str(self.pgdata), "-p", str(self.port)]
        options = {
            "listen_addresses": "",  # its own socket only: no TCP port to race for, none exposed
            "unix_socket_directories": str(self.socket_dir),
            "restore_command": f"/bin/sh {self.root / 'restore.sh'} %f %p",
            "recovery_target_time": target.isoformat(),
            "recovery_target_action": "promote",
            "recovery_target_timeline": "latest",
            "archive_mode": "off",
        }
        if self.spool is not None:  # restore: the new timeline's files reach the archive
            spool = self.spool
            options["archive_mode"] = "on"
            options["archive_command"] = (
                f"cp %p '{spool}/.%f.tmp' && mv -f '{spool}/.%f.tmp' '{spool}/%f'"
            )
        for name, value in options.items():
            command += ["-c", f"{name}={value}"]
        user = run_as(self.root)
        if user:
            os.chown(self.socket_dir, user["user"], user["group"])
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **user,
            )

    def wait_promoted(self, user: str, password: str, deadline_s: float) -> None:
        """Until recovery reached TIME and the server took writes; DrillFailed quoting the log
        when it stops first (e.g. WAL ended before TIME), or at the deadline."""
        import psycopg

        assert self.proc is not None
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DrillFailed(
                    f"the recovering server exited ({self.proc.returncode}): {self.why()}"
                )
            try:
                with psycopg.connect(self.url(user, password), connect_timeout=2) as conn:
                    row = conn.execute("select pg_is_in_recovery()").fetchone()
                    if row == (False,):
                        return
            except psycopg.Error:
                pass
            time.sleep(0.1)
        raise DrillFailed(f"recovery did not finish within {deadline_s:g} s: {self.why()}")

    def url(self, user: str, password: str, database: str = "postgres") -> str:
        from urllib.parse import quote

        host = quote(str(self.socket_dir), safe="")
        return (
            f"postgresql://{user}:{quote(password, safe='')}@/{database}"
            f"?host={host}&port={self.port}"
        )

    def why(self) -> str:
        """The server's last FATAL/PANIC line (or last line), from its log."""
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        fatal = [line for line in lines if "FATAL" in line or "PANIC" in line]
        return (fatal or lines or ["no output"])[-1][-400:] + f" (log: {self.log})"

    def stop(self, grace_s: float = 10.0) -> None:
        """Fast shutdown, then SIGKILL of its whole session after `grace_s`."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def recover_to(
    server: RecoveringServer, feeder: Feeder, target: datetime, user: str, password: str
) -> None:
    """Start the WAL `feeder` and `server` recovering to `target`, and wait until it took
    writes; DrillFailed with the feeder's own error when the archive failed it first."""
    feeder.start()
    server.start(target)
    try:
        server.wait_promoted(user, password, RECOVERY_DEADLINE_S)
    except DrillFailed:
        if feeder.error is not None:
            raise DrillFailed(str(feeder.error)) from None
        raise
