"""Process and port helpers shared by the local server providers."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from components.local.errors import (
    HOST,
    LocalServerError,
    PortInUseError,
    ServerStartError,
    UnsafePathError,
)

Hints = Mapping[str, str] | None
START_DEADLINE_S = 30.0
# In every data dir a provider creates: a folder without it is never emptied by `create`.
OWNED_MARKER = ".mentora-local"
_log = logging.getLogger("mentora.local")


def port_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def require_free_port(service: str, port: int, hints: Hints = None) -> None:
    """Raise `PortInUseError` (naming how to change the port) when the port is already taken."""
    if port_open(port):
        raise PortInUseError(service, port, hints)


def wait_until(
    service: str,
    ready: Callable[[], bool],
    what: str,
    deadline_s: float = START_DEADLINE_S,
    hint: str = "see the server log in its data folder",
) -> None:
    """Poll `ready` with backoff until it holds; each attempt is logged, the deadline is hard.

    >>> wait_until("demo", lambda: True, "nothing")
    """
    from tenacity import Retrying, retry_if_result, stop_after_delay, wait_exponential

    def describe(state: Any) -> None:
        _log.info(
            "%s: waiting for %s (attempt %d, %.1fs of %gs)",
            service,
            what,
            state.attempt_number,
            state.seconds_since_start or 0.0,
            deadline_s,
        )

    retrying = Retrying(
        stop=stop_after_delay(deadline_s),
        # Servers come up in 0.1-1 s: a short ceiling notices readiness within 50 ms.
        wait=wait_exponential(multiplier=0.02, max=0.05),
        retry=retry_if_result(lambda ok: not ok),
        before_sleep=describe,
        retry_error_callback=lambda _state: False,
    )
    if not retrying(ready):
        raise ServerStartError(f"{service}: {what} did not happen within {deadline_s:g}s; {hint}")


def wait_for_port(
    service: str, port: int, deadline_s: float = START_DEADLINE_S, hint: str | None = None
) -> None:
    """Wait until the server accepts connections on 127.0.0.1:`port`."""
    what = f"a connection on {HOST}:{port}"
    if hint is None:
        wait_until(service, lambda: port_open(port), what, deadline_s)
    else:
        wait_until(service, lambda: port_open(port), what, deadline_s, hint)


def pid_alive(pid: int | None) -> bool:
    """Whether `pid` runs; a zombie (killed, not yet reaped by init) counts as dead."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _running(pid, unknown=True)


def _running(pid: int, *, unknown: bool) -> bool:
    """Whether any thread of `pid` is not a zombie (`unknown` when /proc cannot tell). The main
    thread alone is not enough: a killed multi-threaded server (redis) shows it as a zombie while
    another thread still holds the process's sockets, so its port is not free yet."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return unknown
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # that thread is gone
        if state != "Z":
            return True
    return False


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid: int) -> str:
    """The process's command line, arguments joined by spaces ('' when it is gone)."""
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def runs_server(pid: int | None, markers: tuple[str, ...]) -> bool:
    """Whether `pid` is alive and is one of our servers: its command line names one of
    `markers` (its port, its data dir). A stale pid file that now names an unrelated process
    (the pid was reused) is not ours, and must never be signalled.

    >>> runs_server(os.getpid(), ("no-such-marker-xyz",))
    False
    """
    if not pid_alive(pid):
        return False
    assert pid is not None
    line = f" {cmdline(pid)} "
    return any(
        f" {m} " in line
        or f":{m} " in line
        or f"={m} " in line
        or (m.startswith("/") and m in line)
        for m in markers
    )


def group_members(pgid: int) -> list[int]:
    """The live processes of process group `pgid` (any thread not a zombie, see `_running`)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        if int(fields[2]) == pgid and _running(pid, unknown=False):
            members.append(pid)
    return members


def stop_pid(pid: int | None, deadline_s: float = 10.0, *, group: bool = False) -> None:
    """SIGTERM (with SIGCONT, so a stopped process can act on it), then SIGKILL after the
    deadline; returns once the process (with `group`: every process of its group) is gone.
    Callers check ownership first (`runs_server`)."""
    if not pid:
        return
    alive = (lambda: bool(group_members(pid))) if group else (lambda: pid_alive(pid))
    send = os.killpg if group else os.kill
    for sig, wait_s in ((signal.SIGTERM, deadline_s), (signal.SIGKILL, 5.0)):
        if not alive():
            return
        with contextlib.suppress(ProcessLookupError):
            send(pid, sig)
            if sig == signal.SIGTERM:
                send(pid, signal.SIGCONT)
        end = time.monotonic() + wait_s
        while alive() and time.monotonic() < end:
            time.sleep(0.05)
    if alive():
        what = "process group" if group else "process"
        raise LocalServerError(f"{what} {pid} survived SIGKILL; stop it by hand")


def stop_server(
    pid: int | None, markers: tuple[str, ...], deadline_s: float = 10.0, *, group: bool = False
) -> None:
    """Stop `pid` if it runs our server (see `runs_server`); leave any other process alone.
    With `group`, its whole process group, if any live member of it runs our server (a worker
    may outlive its killed master and keep the port)."""
    members = group_members(pid) if (group and pid) else [pid]
    if any(runs_server(member, markers) for member in members):
        stop_pid(pid, deadline_s, group=group)


def _unsafe_reason(path: Path) -> str | None:
    if not path.is_absolute() or len(path.parts) < 3:
        return "is not an absolute folder at least two levels below /"
    if path.is_symlink():
        return "is a symbolic link"
    real = Path(os.path.realpath(path))
    for protected in (Path.home(), Path.cwd()):
        protected = Path(os.path.realpath(protected))
        if real == protected or real in protected.parents:
            return f"would contain {protected}"
    return None


def guarded_data_dir(service: str, data_dir: str, hints: Hints = None) -> Path:
    """The data dir as an absolute path; refuse paths that could hold anything else.

    >>> guarded_data_dir("demo", "relative/dir")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    components.local.errors.UnsafePathError: demo: data dir 'relative/dir' is not an absolute ...
    """
    path = Path(data_dir)
    reason = _unsafe_reason(path)
    if reason:
        raise UnsafePathError(service, repr(data_dir), reason, hints)
    return path


def claim_data_dir(service: str, data_dir: str, hints: Hints = None) -> Path:
    """A fresh, private (0700) data dir for `create`, marked as ours.

    A non-empty folder without the marker was not made by these providers: refuse to touch it.
    """
    path = guarded_data_dir(service, data_dir, hints)
    if path.is_dir() and any(path.iterdir()) and not (path / OWNED_MARKER).is_file():
        raise UnsafePathError(
            service,
            data_dir,
            "already holds files mentora-infra did not create",
            hints,
            or_else=", or empty it",
        )
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700, parents=True)
    (path / OWNED_MARKER).write_text("created by a mentora-infra local provider\n")
    return path


def remove_data_dir(service: str, data_dir: str, hints: Hints = None) -> None:
    """rm -rf of the data dir itself only (never a symlink, an ancestor, home or cwd)."""
    path = guarded_data_dir(service, data_dir, hints)
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        raise LocalServerError(f"{service}: could not remove {path}; remove it by hand")


def run(
    service: str, cmd: list[str], *, user: str | None = None, timeout: float = 60, **kw: Any
) -> str:
    """Run a command (as `user` when given); raise `LocalServerError` with its output tail."""
    try:
        proc = subprocess.run(
            cmd, user=user, capture_output=True, text=True, timeout=timeout, check=False, **kw
        )
    except subprocess.TimeoutExpired:
        name = Path(cmd[0]).name
        raise LocalServerError(f"{service}: {name} did not finish in {timeout:g}s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise LocalServerError(
            f"{service}: {Path(cmd[0]).name} failed (exit {proc.returncode}): " + " | ".join(tail)
        )
    return str(proc.stdout)


def changed_keys(olds: dict[str, Any], news: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    """Keys whose value differs; numbers cross the engine as floats (54322 -> 54322.0)."""

    def norm(value: Any) -> Any:
        return int(value) if isinstance(value, float) and value.is_integer() else value

    return [k for k in keys if norm(olds.get(k)) != norm(news.get(k))]
