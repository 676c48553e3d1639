"""Fixtures shared by the unit tests."""

from __future__ import annotations

from tests.unit.local_program import mocks

__all__ = ["mocks"]
