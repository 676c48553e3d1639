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

# Longest first (`make test`, 2026-12-05, four workers: seconds per module). `--dist loadfile`
# runs a module whole on one worker and hands modules out in collection order, so the longest,
# collected late by name, ran last and made the run's tail; unlisted modules follow in their
# usual order.
LONGEST_FIRST = (
    "integration/test_rollback.py",  # 395
    "integration/test_backups.py",  # 272
    "integration/test_fault_matrix.py",  # 258
    "integration/test_rotation.py",  # 179
    "integration/test_review_stacks.py",  # 163
    "integration/test_hung_servers.py",  # 145
    "integration/test_durability.py",  # 135
    "integration/test_bad_config.py",  # 131
    "integration/test_network_faults.py",  # 126
    "integration/test_local_stack.py",  # 110
    "integration/test_secret_leaks.py",  # 92
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}

    def place(item: pytest.Item) -> int:
        return rank.get(f"{item.path.parent.name}/{item.path.name}", len(rank))

    items.sort(key=place)  # stable: each module's own order is kept


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
