"""Fixtures shared by the unit tests, and the bound on each one's time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.local_program import mocks

__all__ = ["mocks"]
UNIT_TIMEOUT_S = 120.0
"""No unit test takes more than a few seconds. Pulumi's mock runtime can wait forever on an
output that never resolves (pulumi/pulumi#7663, #7888: a `signal` timeout does not end it);
CI saw one such hang on 2026-12-05. The `thread` method dumps every thread's stack and ends
the process, so xdist names the test as crashed and the run goes on, bounded."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(UNIT_TIMEOUT_S, method="thread"))
