"""Port, deadline, data dir and subprocess helpers shared by the local server providers
(which processes are ours, and stopping them: `ownership`)."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
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
from components.local.ownership import Owner

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


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


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
    """rm -rf of the data dir itself only (never a symlink, an ancestor, home or cwd), and the
    record of its server (`ownership`)."""
    path = guarded_data_dir(service, data_dir, hints)
    shutil.rmtree(path, ignore_errors=True)
    Owner.forget(path)
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
