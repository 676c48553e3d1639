"""Fixtures of the recovery tests: the cloud tests' fake Management API and clock."""

from __future__ import annotations

from tests.unit.cloud.conftest import api, clock

__all__ = ["api", "clock"]
