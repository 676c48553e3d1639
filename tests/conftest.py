"""A guard around every test: the signal dispositions and mask a test leaves behind are restored,
and the test that changed them fails at teardown. A SIGINT or SIGTERM left ignored or blocked is
inherited by every process the worker starts afterwards: a later gate under test would not stop
on Ctrl-C, failing a test that did nothing wrong (seen once: five signal tests of one xdist worker
failed together)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest

GUARDED = (signal.SIGINT, signal.SIGTERM)


@pytest.fixture(autouse=True)
def _signals_left_as_found() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handlers = {sig: signal.getsignal(sig) for sig in GUARDED}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    yield
    changed = [s.name for s in GUARDED if signal.getsignal(s) != handlers[s]]
    if signal.pthread_sigmask(signal.SIG_BLOCK, []) != mask:
        changed.append("the blocked-signal mask")
    for sig, handler in handlers.items():
        if handler is not None:
            signal.signal(sig, handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    assert not changed, f"the test left {', '.join(changed)} changed (restored now)"
