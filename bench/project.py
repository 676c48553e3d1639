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
import tempfile
import time
from pathlib import Path

from bench.proc import BenchError, run_timed
from devtools.ports import port_open
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

    def tree(self, service: str) -> list[int]:
        """The server's pid (its pid file) and every descendant of it, from /proc."""
        from bench.memory import descendants, parent_map

        pid = self.pid(service)
        if pid is None or not self._owned(service, pid):
            raise BenchError(f"{service}: no running server of this stack (pid file {pid})")
        return descendants(pid, parent_map())

    def kill(self, service: str) -> None:
        """SIGKILL the service's server and its children (like a crash: gunicorn's worker would
        otherwise keep the port) and wait until its port is closed."""
        for pid in self.tree(service):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not wait_port(self.port(service), want_open=False):
            raise BenchError(f"{service}: port {self.port(service)} still open 10s after SIGKILL")

    def freeze(self, service: str) -> list[int]:
        """SIGSTOP the server (a hung process: it holds its port, the kernel still accepts
        connections, nothing answers); return the stopped pids for `thaw`.

        Postgres: the postmaster only (new connections hang in its backlog); its provider's stop
        resumes only the postmaster, so a stopped backend would outlive the heal. Every other
        server with its children: a stopped gunicorn master alone leaves its worker answering.
        """
        pids = self.tree(service)
        if service == "postgres":
            pids = pids[:1]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    @staticmethod
    def thaw(pids: list[int]) -> list[int]:
        """SIGCONT whichever of `pids` still exist (never leave a frozen process); those pids."""
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z":  # a zombie is gone, only not yet reaped
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
                    alive.append(pid)
        return alive

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
