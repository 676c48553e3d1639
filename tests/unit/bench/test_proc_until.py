"""bench.proc.until: the seconds a condition took to hold, or BenchError naming it past the
deadline (the backups and watch benches both measure with it)."""

from __future__ import annotations

import time

import pytest

from bench.proc import BenchError, until


def test_returns_the_seconds_until_the_condition_held() -> None:
    ready_at = time.monotonic() + 0.1
    took = until("it", lambda: time.monotonic() >= ready_at, 5)
    assert 0.1 <= took < 1.0


def test_past_the_deadline_names_what_did_not_happen() -> None:
    with pytest.raises(BenchError, match="the archive did not happen within 0.1 s"):
        until("the archive", lambda: False, 0.1)
