"""review/lock.py: one review command per stack; a lock file removed by a finished teardown
never lets two holders coexist."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from gate.lock import GateBusy
from review.lock import held, review_lock, review_lock_path


def test_a_second_holder_is_refused_busy_naming_the_first(tmp_path: Path) -> None:
    with review_lock("pr-1", tmp_path):
        busy = pytest.raises(GateBusy, match="another review command is running .*--lock-wait")
        with busy, review_lock("pr-1", tmp_path):
            pass
        with review_lock("pr-2", tmp_path):  # another stack is free
            pass
    with review_lock("pr-1", tmp_path):  # released on exit
        pass


def test_a_waiter_on_a_removed_lock_file_takes_the_new_one(tmp_path: Path) -> None:
    # A tears the stack down and removes its lock file while B waits on the old file; C comes
    # after the removal and creates a new one. B and C must never hold at the same time.
    holding: list[str] = []
    overlap: list[tuple[str, str]] = []
    a_in, a_release = threading.Event(), threading.Event()

    def hold(name: str, wait: float, hold_s: float, unlink: bool = False) -> None:
        with review_lock("pr-1", tmp_path, wait_s=wait) as path:
            overlap.extend((other, name) for other in holding)
            holding.append(name)
            if name == "A":
                a_in.set()
                a_release.wait(5)
            time.sleep(hold_s)
            if unlink:
                path.unlink()
            holding.remove(name)

    a = threading.Thread(target=hold, args=("A", 0, 0, True))
    a.start()
    assert a_in.wait(5)
    b = threading.Thread(target=hold, args=("B", 10, 1.0))
    b.start()
    time.sleep(0.3)  # B polls the file A holds
    a_release.set()
    a.join(5)
    time.sleep(0.4)  # B took the lock (old file or new one)
    c = threading.Thread(target=hold, args=("C", 10, 0.2))
    c.start()
    b.join(10)
    c.join(10)
    assert not holding and overlap == []


def test_held_sees_a_live_holder_only(tmp_path: Path) -> None:
    path = review_lock_path("pr-4", tmp_path)
    assert not held(path)
    with review_lock("pr-4", tmp_path):
        assert held(path)
    assert not held(path)
