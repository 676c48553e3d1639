"""One wait per dead service: the first check that finds an endpoint timed out or refused
records it here, and every later check of the same endpoint fails at once naming that first
finding, instead of waiting out its own timeout again (a hung Redis used to cost the cache, the
security and the app checks one full timeout each).

>>> record("127.0.0.1:6390", "timed out", "smoke/test_cache.py::test_ping")
>>> known("127.0.0.1:6390").seen_by
'smoke/test_cache.py::test_ping'
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

# What a later check would wait for again; a rejected password is answered at once anyway.
REMEMBERED = ("timed out", "refused connection")
_SEEN: dict[str, Outage] = {}
_SEEN_LOCK = threading.Lock()  # checks of different services record at the same time
_current = threading.local()


@dataclass(frozen=True)
class Outage:
    """An endpoint found down: what happened and which check found it."""

    target: str
    happened: str
    seen_by: str


def set_current_check(nodeid: str) -> None:
    """Name the check this thread runs now (smoke/concurrency.py: one process environment is
    shared by every thread, so PYTEST_CURRENT_TEST names whichever check set it last)."""
    _current.nodeid = nodeid


def current_check() -> str:
    """The node id of the check this thread runs now (serial runs: pytest's PYTEST_CURRENT_TEST)."""
    nodeid = getattr(_current, "nodeid", None)
    if nodeid:
        return str(nodeid)
    return os.environ.get("PYTEST_CURRENT_TEST", "an earlier check").rsplit(" ", 1)[0]


def record(target: str, happened: str, seen_by: str | None = None) -> None:
    """Remember that `target` (host:port) `happened` (only the kinds in REMEMBERED)."""
    if happened not in REMEMBERED:
        return
    with _SEEN_LOCK:
        _SEEN.setdefault(target, Outage(target, happened, seen_by or current_check()))


def known(target: str) -> Outage | None:
    """The outage recorded for `target`, if any."""
    return _SEEN.get(target)


def forget_all() -> None:
    """Start a new run with no outage known (each smoke session starts empty)."""
    with _SEEN_LOCK:
        _SEEN.clear()
    _current.nodeid = None
