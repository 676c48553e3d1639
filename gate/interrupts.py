"""SIGINT and SIGTERM during a gate run: a stop asked for by the operator, never a failure.

While `handled()` is active both signals raise `Interrupted` (a KeyboardInterrupt, so every
child-process wait that already stops its child gracefully on Ctrl-C does the same on SIGTERM).
Inside `deferred()` (a write of the stack's tags) the signal is kept and raised when the write
is done, so a record is never cut in half. The gate ends with Exit.INTERRUPTED and never rolls
back because of a signal.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)
_state: dict[str, int] = {"deferring": 0, "pending": 0}


class Interrupted(KeyboardInterrupt):
    """Raised in the gate when it receives SIGINT or SIGTERM; `signum` says which (0: a child
    reported its own interruption, e.g. pytest stopped by a forwarded signal)."""

    def __init__(self, signum: int = 0) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else "a signal"


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    if _state["deferring"]:
        _state["pending"] = _state["pending"] or signum
        return
    raise Interrupted(signum)


@contextmanager
def handled() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` inside the block; the old handlers come back."""
    previous = {signum: signal.signal(signum, _on_signal) for signum in HANDLED}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def deferred() -> Iterator[None]:
    """A signal received inside the block is raised when the block ends (or is dropped if the
    block raised anything else)."""
    _state["deferring"] += 1
    try:
        yield
    finally:
        _state["deferring"] -= 1
    if not _state["deferring"] and _state["pending"]:
        signum, _state["pending"] = _state["pending"], 0
        raise Interrupted(signum)
