"""review/ttl.py: --ttl parsed once; bad values refused naming the option and the fix."""

from __future__ import annotations

import doctest

import pytest

import review.ttl as ttl
from review.errors import ReviewUsage
from review.ttl import format_left, parse_ttl


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(ttl).failed == 0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("72h", 259200), ("2d", 172800), ("1.5h", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["0", "0h", "0s", "abc", "-1h", "72", "1w", "91d", "", "h"])
def test_bad_ttl_is_refused_naming_the_option(text: str) -> None:
    with pytest.raises(ReviewUsage, match=r"--ttl .*e\.g\. --ttl 72h"):
        parse_ttl(text)


def test_time_left() -> None:
    assert [format_left(s) for s in (0, -5, 45, 125, 3600, 90000)] == [
        "expired",
        "expired",
        "45s",
        "2m05s",
        "1h00m",
        "1d1h",
    ]
