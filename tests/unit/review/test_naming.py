"""review/naming.py: the pr-<N> names both halves of review stacks share."""

from __future__ import annotations

import doctest

import pytest

import review.naming as naming
from review.naming import ReviewNameError, base_stack_of, parse_review_stack, review_stack


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(naming).failed == 0


@pytest.mark.parametrize("pr", [1, 42, 99_999_999])
def test_a_name_round_trips(pr: int) -> None:
    assert parse_review_stack(review_stack(pr)) == pr


@pytest.mark.parametrize("pr", [0, -1, 100_000_000, True, "42", 4.0])
def test_not_a_pull_request_number_is_refused_with_the_fix(pr: object) -> None:
    with pytest.raises(ReviewNameError, match="give a whole number"):
        review_stack(pr)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["local", "dev", "prod", "pr-", "pr-0", "pr-01", "pr-4x", "PR-4", "pr-4 ", "xpr-4"]
)
def test_other_names_are_not_review_stacks(name: str) -> None:
    assert parse_review_stack(name) is None
    with pytest.raises(ReviewNameError, match="pr-<N>"):
        base_stack_of(name)


def test_the_base_is_local_or_dev() -> None:
    assert base_stack_of("pr-7") == "local"
    assert base_stack_of("pr-7", cloud=True) == "dev"
