"""Every test is bounded (tests/unit/conftest.py, tests/integration/conftest.py): a hang fails
with every thread's stack instead of holding `make test` forever."""

from __future__ import annotations

import pytest

from tests.unit.conftest import UNIT_TIMEOUT_S


def test_this_unit_test_carries_the_unit_bound(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("timeout")
    assert marker is not None
    assert marker.args == (UNIT_TIMEOUT_S,) and marker.kwargs == {"method": "thread"}
