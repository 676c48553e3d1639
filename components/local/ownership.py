"""Which processes are ours, proven one way, and the one place that signals them.

A local server is ours when the process now at the pid we recorded has the very start time,
executable and arguments recorded when the server became ready (`Owner`), or, for a server we
did not record (one started before records existed, or left running outside the stack's state),
when it listens on the server's port and works in its data dir. A pid file written by a server
proves nothing (a stale one may name any process) and is never trusted; no command line is
matched by substring. Processes of the server's group (postgres backends, gunicorn workers) are
ours when they descend from the recorded process or, once it is gone, share its process group
and work in its data dir.

The record lives beside the data dir (`.<name>.owner.json` in its parent), so it outlives a data
dir deleted under a running server. psutil answers every process and socket question.

>>> me = Owner.capture(os.getpid(), Path.cwd())
>>> me.process() is not None
True
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from components.local.errors import LocalServerError

GRACE_S = 10.0  # a server that answers gets this long to exit on its stop signal
KILL_WAIT_S = 5.0
CAPTURE_WAIT_S = 1.0
_log = logging.getLogger("mentora.local")


def pid_alive(pid: int | None) -> bool:
    """Whether `pid` runs: a zombie (killed, not yet reaped) is dead, unless another of its
    threads still runs (a killed redis shows its main thread as a zombie while another thread
    still holds its sockets, so its port is not free yet)."""
    if not pid:
        return False
    try:
        return _alive(psutil.Process(pid))
    except psutil.Error:
        return False


def _alive(proc: psutil.Process) -> bool:
    try:
        if not proc.is_running():
            return False
        return proc.status() != psutil.STATUS_ZOMBIE or proc.num_threads() > 1
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # another user's process we may not inspect: it exists
        return True


def lives_in(proc: psutil.Process, folder: Path) -> bool:
    """Whether `proc` works in `folder` (or below it), also after `folder` was deleted, or
    writes its output into a file there. Each local server runs so (postgres and redis chdir
    into their data dir, the others start in it; the app logs into it)."""
    root = os.path.realpath(folder)

    def inside(path: str) -> bool:
        path = path.removesuffix(" (deleted)")
        return path == root or path.startswith(root + os.sep)

    try:
        if inside(proc.cwd()):
            return True
        return any(inside(f.path) for f in proc.open_files() if f.fd in (1, 2))
    except psutil.Error:
        return False


def listener(port: int) -> int | None:
    """The pid listening on TCP `port` (IPv4 or IPv6, any local address); when forked processes
    share the socket (gunicorn's workers, a postgres backend in the moment after its fork), the
    topmost of them: the server. None when nothing listens or its holder is not ours to see."""
    pids = {
        conn.pid
        for conn in psutil.net_connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid
    }
    if not pids:
        return None
    for proc in _holders(sorted(pids), port):
        try:
            return _topmost_holder(proc, port).pid
        except psutil.NoSuchProcess:
            continue  # a child that exited since: its parent still holds the socket
        except psutil.Error:
            return proc.pid  # not ours to inspect
    return None


def _holders(named: list[int], port: int) -> Iterator[psutil.Process]:
    """The processes psutil named for the socket, then (when every one of those has exited)
    each process that says it holds it.

    psutil names one pid per socket: of the processes holding it, the last it read, the highest
    pid (psutil 7.2.2 `_pslinux.py`: `inodes.update(...)`, then `pid, fd = inodes[inode][0]`).
    A child that has not yet closed its inherited copy may be all it names (seen: 11% of reads
    under connection churn, and the stack's own postgres refused as another program's)."""
    for pid in named:
        with contextlib.suppress(psutil.NoSuchProcess):
            yield psutil.Process(pid)
    yield from (proc for proc in psutil.process_iter() if _listens(proc, port))


def _topmost_holder(proc: psutil.Process, port: int) -> psutil.Process:
    """`proc`, or its furthest ancestor reached through ancestors that listen on `port` too."""
    while (parent := proc.parent()) is not None and _listens(parent, port):
        proc = parent
    return proc


def _listens(proc: psutil.Process, port: int) -> bool:
    try:
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
            for c in proc.net_connections(kind="tcp")
        )
    except psutil.Error:
        return False


def listening(port: int) -> list[str]:
    """Every local `address:port` a process listens on at TCP `port` (IPv4 and IPv6), sorted.

    >>> listening(1)  # nothing listens on port 1 here  # doctest: +SKIP
    []
    """
    found = {
        f"[{c.laddr.ip}]:{port}" if ":" in c.laddr.ip else f"{c.laddr.ip}:{port}"
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
    }
    return sorted(found)


def describe(pid: int) -> str:
    """`pid N: <command>` for messages ('pid N' when its command cannot be read)."""
    with contextlib.suppress(psutil.Error):
        command = " ".join(psutil.Process(pid).cmdline()).strip()[:60]
        if command:
            return f"pid {pid}: {command}"
    return f"pid {pid}"


@dataclass(frozen=True)
class Owner:
    """What proves a pid is still the server process we started (see the module doc)."""

    pid: int
    started: float
    """psutil's create time: with the pid, unique within a boot."""
    exe: str
    cmdline: tuple[str, ...]
    pgid: int
    data_dir: str

    @classmethod
    def capture(cls, pid: int, data_dir: Path) -> Owner:
        """The identity of `pid` now; `ProcessLookupError` when it is not running."""
        end = time.monotonic() + CAPTURE_WAIT_S
        try:
            proc = psutil.Process(pid)
            # Right after exec the kernel may show an empty command line for a moment.
            while not (cmdline := tuple(proc.cmdline())) and time.monotonic() < end:
                time.sleep(0.005)
            if not _alive(proc) or not cmdline:
                raise ProcessLookupError(f"process {pid} is not running")
            return cls(
                pid=pid,
                started=proc.create_time(),
                exe=proc.exe(),
                cmdline=cmdline,
                pgid=os.getpgid(pid),
                data_dir=os.path.realpath(data_dir),
            )
        except (psutil.Error, OSError) as exc:
            raise ProcessLookupError(f"process {pid} is not running: {exc}") from None

    @staticmethod
    def record_path(data_dir: Path) -> Path:
        return data_dir.parent / f".{data_dir.name}.owner.json"

    def save(self) -> None:
        """Write the record atomically (0600) beside the data dir."""
        path = self.record_path(Path(self.data_dir))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(self), handle)
        os.replace(tmp, path)

    @classmethod
    def load(cls, data_dir: Path) -> Owner | None:
        """The record of `data_dir`'s server; None when there is none or it is damaged."""
        try:
            raw = json.loads(cls.record_path(data_dir).read_text())
            raw["cmdline"] = tuple(raw["cmdline"])
            owner = cls(**raw)
        except (OSError, ValueError, TypeError, KeyError):
            return None
        # A record copied beside another data dir does not make that dir's server ours.
        return owner if owner.data_dir == os.path.realpath(data_dir) else None

    @staticmethod
    def forget(data_dir: Path) -> None:
        Owner.record_path(data_dir).unlink(missing_ok=True)

    def process(self) -> psutil.Process | None:
        """The recorded process, if the one now at its pid is exactly it and runs."""
        try:
            proc = psutil.Process(self.pid)
            if proc.create_time() != self.started or not _alive(proc):
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return proc  # exiting (pid + start time prove it): its last threads hold its port
            same = proc.exe() == self.exe and tuple(proc.cmdline()) == self.cmdline
        except psutil.Error:
            return None
        return proc if same else None

    def processes(self) -> list[psutil.Process]:
        """The recorded process and its descendants; once it is gone, the members of its
        process group left behind (a gunicorn worker outlives its killed master) that work in
        its data dir."""
        leader = self.process()
        if leader is not None:
            with contextlib.suppress(psutil.Error):
                return [leader, *leader.children(recursive=True)]
            return [leader]
        folder = Path(self.data_dir)
        left: list[psutil.Process] = []
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error, OSError):
                # The group's leader is the recorded process: one now leading a group of that
                # id is a stranger that reused the pid.
                if (
                    proc.pid != self.pgid
                    and os.getpgid(proc.pid) == self.pgid
                    and proc.create_time() >= self.started
                    and _alive(proc)
                    and lives_in(proc, folder)
                ):
                    left.append(proc)
        return left


def find(data_dir: Path, port: int | None = None) -> Owner | None:
    """`data_dir`'s server if it runs and is provably ours: its record matches, or (no valid
    record) the process listening on `port` works in `data_dir` (its identity is captured; the
    next start records it)."""
    owner = Owner.load(data_dir)
    if owner is not None and owner.processes():
        return owner
    pid = listener(port) if port else None
    if pid is None:
        return None
    with contextlib.suppress(psutil.Error, ProcessLookupError):
        if lives_in(psutil.Process(pid), data_dir):
            return Owner.capture(pid, data_dir)
    return None


def record(pid: int | None, data_dir: Path, service: str) -> Owner:
    """Record the server at `pid` (just started and ready) as ours; it must work in its data
    dir, so a pid file planted meanwhile cannot make a stranger ours."""
    if not pid:
        raise LocalServerError(f"{service}: the started server wrote no pid", service=service)
    owner = Owner.capture(pid, data_dir)
    proc = owner.process()
    if proc is None or not lives_in(proc, data_dir):
        raise LocalServerError(
            f"{service}: {describe(pid)} does not work in {data_dir}; it is not the server "
            "just started, and is left alone",
            service=service,
        )
    owner.save()
    return owner


def record_child(proc: subprocess.Popen[bytes], data_dir: Path, service: str) -> None:
    """Record a server this process just spawned, before waiting for it to be ready, so a start
    that fails later is stopped through its record. One that already exited is not recorded:
    the start's readiness check reports its exit."""
    try:
        if proc.poll() is None:
            record(proc.pid, data_dir, service)
    except (ProcessLookupError, LocalServerError):
        if proc.poll() is None:  # alive, yet not provably the server just started: say so
            raise


def _signal(procs: Iterable[psutil.Process], sig: signal.Signals) -> None:
    """The one place a signal is sent. psutil refuses a process whose pid was reused."""
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(sig)


def _wait_gone(procs: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """Wait until every process is gone (a zombie whose threads all ended counts as gone)."""
    end = time.monotonic() + timeout_s
    alive = [p for p in procs if _alive(p)]
    while alive and time.monotonic() < end:
        psutil.wait_procs(alive, timeout=0.05)
        alive = [p for p in alive if _alive(p)]
    return alive


def stop(
    owner: Owner | None,
    service: str,
    grace_s: float = GRACE_S,
    stop_signal: signal.Signals = signal.SIGTERM,
) -> None:
    """Stop the server `owner` proves ours, and only it: `stop_signal` to the recorded process,
    then SIGKILL to all of its processes after `grace_s`. A stopped (SIGSTOPped) or hung
    server cannot act on a signal: with `grace_s=0`, or when a process is stopped, everything
    is killed at once (its data is kept: each server survives SIGKILL). Returns once all its
    processes are gone; the record is removed."""
    if owner is None:
        return
    procs = owner.processes()
    leader = procs[0] if procs and procs[0].pid == owner.pid else None
    if procs and grace_s > 0 and leader is not None and not _frozen(procs):
        _signal([leader], stop_signal)
        procs = _wait_gone(procs, grace_s)
    if procs:
        _log.info("%s: killing %s", service, ", ".join(describe(p.pid) for p in procs))
        _signal(procs, signal.SIGKILL)
        procs = _wait_gone(procs, KILL_WAIT_S)
    if procs:
        raise LocalServerError(
            f"{service}: {describe(procs[0].pid)} survived SIGKILL; stop it by hand",
            service=service,
        )
    Owner.forget(Path(owner.data_dir))


def _frozen(procs: list[psutil.Process]) -> bool:
    with contextlib.suppress(psutil.Error):
        return any(p.status() == psutil.STATUS_STOPPED for p in procs)
    return False


def frozen(owner: Owner | None) -> bool:
    """Whether a process of the server `owner` proves ours is stopped (SIGSTOP, state T): it
    holds its port and accepts connections but can answer nothing."""
    return owner is not None and _frozen(owner.processes())
