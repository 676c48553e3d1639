"""Tests of the smoke suite itself: no servers needed (a real redis-server is used when present).

Most tests run the suite in a child pytest (tests/unit/smoke/helpers.py `run_smoke`) against an
outputs JSON with fake secrets and dead ports. `pytester` is enabled per test module
(`pytest_plugins = ["pytester"]`): pytest refuses `pytest_plugins` in a conftest below the
rootdir, which this one is.
"""

from collections.abc import Iterator

import pytest

from smoke import outages


@pytest.fixture(autouse=True)
def no_outage_known() -> Iterator[None]:
    """Outages are process-wide (one wait per dead service within a run): a test that found one
    must not make the next test's first call fail without trying."""
    outages.forget_all()
    yield
    outages.forget_all()
