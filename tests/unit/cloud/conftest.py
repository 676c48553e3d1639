"""Fixtures of the cloud provider tests: the fake Management API and the fake clock."""

from __future__ import annotations

import pytest

from tests.unit.cloud.fake_supabase import FakeApi, FakeClock


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
