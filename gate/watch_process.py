"""The `watch` process's hygiene around its rounds (gate/watch.py): drivers imported before the
first round's threads, every log record masked, glibc's malloc kept lean, and each round run in
a forked child (`in_child`), so a watch that runs for weeks does not grow.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import logging
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import Any

from smoke import engine
from smoke.redact import Redactor

M_ARENA_MAX = -8  # glibc malloc.h
# httpcore: httpx imports it at its first request, which would be in every round's child.
DRIVERS = ("psycopg", "redis", "httpx", "httpcore", "botocore.session", "encodings.idna")
LOST_GRACE_S = 5.0  # past the round's own deadline: the child's results, pickled, and its exit
KILL_WAIT_S = 5.0
LOST = "lost"
"""How `Results.ended` starts when a round's child gave no results (killed, crashed)."""


def lean_malloc() -> None:
    """One malloc arena for the whole process (glibc's `mallopt(M_ARENA_MAX, 1)`): each round
    starts new check threads, and glibc gave them new arenas whose freed pages stayed resident
    (measured on the local stack, 60 rounds in one process: RSS 91 -> 120 MB with the default,
    89 -> 93 MB with one arena; Python's own heap grew 0.2 MB). Elsewhere than glibc: nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 1)


def trim_malloc() -> None:
    """Give the pages a round freed back to the system (glibc's `malloc_trim`): ~2 MB less."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def preload() -> None:
    """Import the checks and their drivers before the first round's threads start: first
    imports of one package from several threads at once can fail (CPython gh-106905; smoke's
    plugin does the same)."""
    engine.load()
    for module in DRIVERS:
        with contextlib.suppress(Exception):  # a broken driver is reported by its own check
            importlib.import_module(module)


def redact_logs(redactor: Redactor) -> Callable[[], None]:
    """Mask secrets in every log record as it is made (a driver's warning reaching stderr);
    returns the undo."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            record.msg, record.args = redactor.redact(record.getMessage()), None
        except Exception:  # a record that cannot format is left for logging to report
            return record
        return record

    logging.setLogRecordFactory(factory)
    return lambda: logging.setLogRecordFactory(previous)


def in_child(
    run: Callable[[engine.Settings], engine.Results], settings: engine.Settings
) -> engine.Results:
    """`run(settings)` in a child forked from this process; its results, pickled back.

    What a round allocates (botocore's S3 model, libpq and TLS state, each check's threads, a
    hung check's thread left behind, the allocator's fragments) goes back to the system when
    the child exits, so the watch's idle memory is what it imported, not what its rounds made
    (the bound Celery's `--max-tasks-per-child` and gunicorn's `max_requests` give workers).
    The child inherits the imported drivers (copy on write) and the signal handlers.

    A child still running `LOST_GRACE_S` after the round's deadline is killed; one that ends
    without results (killed, crashed) gives `Results([], "lost (...)")`. A KeyboardInterrupt
    here (SIGINT, SIGTERM) is passed on to the child as SIGTERM; it gets `stop_grace_s` to end
    its checks and clean up, then is killed; the interrupt is raised again.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(run, settings, write_fd)
    os.close(write_fd)
    started = time.monotonic()
    deadline = (settings.deadline or started + 3600.0) + settings.stop_grace_s + LOST_GRACE_S
    chunks: list[bytes] = []
    try:
        while (left := deadline - time.monotonic()) > 0:
            if select.select([read_fd], [], [], left)[0]:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        else:
            _end_child(pid, 0.0, term=False)
            took = time.monotonic() - started
            why = f"the round's process was still running {took:.0f} s after it started: killed"
            return engine.Results([], f"{LOST} ({why})")
    except KeyboardInterrupt:
        _end_child(pid, settings.stop_grace_s + 1.0, term=True)
        raise
    finally:
        os.close(read_fd)
    status = _end_child(pid, KILL_WAIT_S, term=False)
    try:
        results = pickle.loads(b"".join(chunks))
    except Exception:  # nothing, or a partial write: the child died mid-round
        return engine.Results(
            [], f"{LOST} (the round's process ended with {status} and no results)"
        )
    return results if isinstance(results, engine.Results) else engine.Results([], f"{LOST} ()")


def _child(
    run: Callable[[engine.Settings], engine.Results], settings: engine.Settings, fd: int
) -> None:
    code = 0
    try:
        try:
            results = run(settings)
        except BaseException as exc:  # past the engine's own handling: say so, never a traceback
            results, code = engine.Results([], f"{LOST} ({type(exc).__name__})"), 1
        with os.fdopen(fd, "wb") as out:
            out.write(pickle.dumps(results))
    finally:
        os._exit(code)  # no atexit, no flush of buffers copied from the parent


def _end_child(pid: int, grace_s: float, term: bool) -> str:
    """Reap child `pid` (ours: just forked), SIGTERMed first when `term`, SIGKILLed when it
    still runs after `grace_s`. How it ended, for messages."""
    if term:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + grace_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return _how(status)
        if time.monotonic() >= end:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            return _how(os.waitpid(pid, 0)[1])
        time.sleep(0.01)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit {os.waitstatus_to_exitcode(status)}"
