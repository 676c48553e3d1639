"""The bench's throwaway project: `devtools.project.LocalProject` whose commands
run in their own session (a Ctrl-C stops them gracefully) and whose servers can be found by pid.

>>> project = BenchProject.create(base)  # doctest: +SKIP
>>> project.up().seconds  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path

from bench.proc import BenchError, run_timed
from devtools.project import CommandResult, LocalProject

# Where each provider keeps the pid of its server, below the state dir.
PID_FILES = {
    "postgres": "postgres/pgdata/postmaster.pid",
    "redis": "redis/redis.pid",
    "storage": "s3/moto.pid",
    "app": "app/app.pid",
    "jobs": "inngest/inngest.pid",
    "errors": "bugsink/gunicorn.pid",
}
PORT_KEYS = {
    "postgres": "postgresPort",
    "redis": "redisPort",
    "storage": "storagePort",
    "app": "appPort",
    "jobs": "inngestPort",
    "errors": "errorTrackerPort",
}


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_port(port: int, want_open: bool, deadline_s: float = 10.0) -> bool:
    """Poll every 10 ms until the port is open (or closed); whether that happened in time."""
    end = time.monotonic() + deadline_s
    while port_open(port) != want_open:
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def make_base(prefix: str) -> Path:
    """A fresh /tmp folder readable by the postgres service user (not pytest's 0700 tmp)."""
    base = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    base.chmod(0o755)
    return base


class BenchProject(LocalProject):
    """A LocalProject whose CLI runs are interruptible and never kept in memory beyond the call."""

    destroyed = False  # set once a `pulumi destroy` succeeded: teardown skips it then

    @classmethod
    def new(cls, base: Path) -> BenchProject:
        """`LocalProject.create` (copy, ports, `pulumi stack init`), typed as a BenchProject."""
        project = cls.create(base)
        assert isinstance(project, BenchProject)
        return project

    def _exec(self, args: list[str], timeout: float) -> CommandResult:
        timed = run_timed(args, cwd=self.root, env=self.env(), timeout=timeout)
        # Not appended to self.log: `stack output --show-secrets` must not linger anywhere.
        return CommandResult(timed.args, timed.returncode, timed.output, timed.seconds)

    def checked(self, result: CommandResult, what: str) -> CommandResult:
        if result.returncode != 0:
            tail = "\n".join(result.output.strip().splitlines()[-15:])
            raise BenchError(f"{what} exited {result.returncode}:\n{tail}")
        return result

    def pid(self, service: str) -> int | None:
        """The pid the provider recorded for `service`, None when there is none."""
        try:
            return int((self.state_dir / PID_FILES[service]).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def port(self, service: str) -> int:
        return self.ports[PORT_KEYS[service]]

    def kill(self, service: str) -> None:
        """SIGKILL the service's server (like a crash) and wait until its port is closed."""
        pid = self.pid(service)
        if pid is None:
            raise BenchError(f"{service}: no pid file under {self.state_dir}")
        os.kill(pid, signal.SIGKILL)
        if not wait_port(self.port(service), want_open=False):
            raise BenchError(f"{service}: port {self.port(service)} still open 10s after SIGKILL")

    def _owned(self, service: str, pid: int) -> bool:
        """Whether `pid` still runs this stack's server (its port is on its command line), so a
        stale pid file never gets an unrelated process killed."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            return False
        return str(self.port(service)).encode() in cmdline

    def closed_ports(self) -> list[str]:
        """Services whose port is closed (empty when the whole stack listens)."""
        return [name for name in PORT_KEYS if not port_open(self.port(name))]

    def teardown(self) -> None:
        """Destroy the stack; kill whatever a broken destroy left running; delete the copy.
        Safe to call again (a second call finds nothing to do)."""
        if not self.root.exists():
            return
        try:
            if not self.destroyed:
                result = self.run("destroy", "--yes", "--skip-preview", check=False, timeout=180)
                if result.returncode != 0:
                    raise BenchError("pulumi destroy failed: " + result.output.strip()[-500:])
                self.destroyed = True
        finally:
            for service in PID_FILES:
                pid = self.pid(service)
                if pid and self._owned(service, pid):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
            shutil.rmtree(self.root.parent, ignore_errors=True)
