"""Cleanup that always runs: throwaway stack destroyed, floor servers stopped, temp dirs removed.

>>> done = []
>>> cleanup = Cleanup()
>>> cleanup.push("first", lambda: done.append(1))
>>> cleanup.push("second", lambda: done.append(2))
>>> cleanup.run(), done
([], [2, 1])
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


class Cleanup:
    """A stack of actions run last-in first-out; each runs even if an earlier one failed."""

    def __init__(self) -> None:
        self._actions: list[tuple[str, Callable[[], object]]] = []

    def push(self, label: str, action: Callable[[], object]) -> None:
        self._actions.append((label, action))

    def run(self) -> list[str]:
        """Run every action once, newest first; return `label: error` for those that failed.

        Ctrl-C is ignored meanwhile: an interrupted cleanup would leave servers behind.
        """
        failures: list[str] = []
        with _signals_ignored():
            while self._actions:
                label, action = self._actions.pop()
                try:
                    action()
                except Exception as exc:  # noqa: BLE001 - report, then clean the rest
                    failures.append(f"{label}: {type(exc).__name__}: {exc}")
        return failures


@contextmanager
def _signals_ignored() -> Iterator[None]:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def interrupts_raise() -> None:
    """Make Ctrl-C and SIGTERM raise KeyboardInterrupt, so cleanup runs for both; also when the
    bench was started with SIGINT ignored (a background job of a non-interactive shell)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
