"""Names of review stacks: the one place that says what `pr-<N>` means.

A stable API for both halves of review stacks (local ones here, cloud ones in stacks/ and
components/cloud/): the stack of a pull request, the pull request of a stack name, and the base
stack a review stack derives its settings from.

>>> review_stack(42)
'pr-42'
>>> parse_review_stack("pr-42")
42
>>> parse_review_stack("dev") is None
True
>>> base_stack_of("pr-42")
'local'
>>> base_stack_of("pr-42", cloud=True)
'dev'
"""

from __future__ import annotations

import re

PREFIX = "pr-"
LOCAL_BASE = "local"
CLOUD_BASE = "dev"
MAX_PR = 99_999_999

_NAME = re.compile(r"^pr-([1-9][0-9]{0,7})$")


class ReviewNameError(ValueError):
    """A pull request number or review stack name that cannot name a review stack."""


def review_stack(pr: int) -> str:
    """The stack of pull request `pr`: `pr-<pr>`; refuses anything but 1..99,999,999."""
    if isinstance(pr, bool) or not isinstance(pr, int) or not 1 <= pr <= MAX_PR:
        raise ReviewNameError(
            f"review: pull request {pr!r} is not a pull request number; "
            f"give a whole number from 1 to {MAX_PR} (e.g. `review up 42`)"
        )
    return f"{PREFIX}{pr}"


def parse_review_stack(name: str) -> int | None:
    """The pull request of a review stack name, or None when `name` is not one (`dev`, `pr-01`)."""
    match = _NAME.match(name)
    return int(match.group(1)) if match else None


def is_review_stack(name: str) -> bool:
    """True when `name` is a review stack's name."""
    return parse_review_stack(name) is not None


def base_stack_of(name: str, *, cloud: bool = False) -> str:
    """The stack a review stack derives its settings from: `local`, or `dev` when `cloud`.

    A name that is not a review stack is refused (ReviewNameError), so a typo never derives
    `prod`-like settings from the wrong base.
    """
    if parse_review_stack(name) is None:
        raise ReviewNameError(
            f"review: {name!r} is not a review stack name; review stacks are named pr-<N>"
        )
    return CLOUD_BASE if cloud else LOCAL_BASE
