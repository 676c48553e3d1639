"""The `watch` process's hygiene around its rounds (gate/watch.py): drivers imported before the
first round's threads, every log record masked, and glibc's malloc kept lean, so a watch that
runs for weeks does not grow.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import logging
from collections.abc import Callable
from typing import Any

from smoke import engine
from smoke.redact import Redactor

M_ARENA_MAX = -8  # glibc malloc.h
DRIVERS = ("psycopg", "redis", "httpx", "boto3", "botocore.session")


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
