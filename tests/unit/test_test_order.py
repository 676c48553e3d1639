"""The suite's longest-first order (tests/conftest.py) names modules that exist: a renamed one
would silently fall back to its place by name and make the run's tail again."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import LONGEST_FIRST

TESTS = Path(__file__).resolve().parents[1]


def test_every_module_of_the_longest_first_order_exists() -> None:
    missing = [name for name in LONGEST_FIRST if not (TESTS / name).is_file()]
    assert missing == []
