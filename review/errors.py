"""What can go wrong with a review stack, as one exception tree.

ReviewError                 every review failure the CLI reports (exit 1)
├── ReviewUsage             bad input (PR number, TTL, base stack): exit 2, nothing touched
└── TeardownIncomplete      `down`/`sweep` left something on the system (named): exit 1
"""

from __future__ import annotations


class ReviewError(Exception):
    """A review stack operation failed; the message names the stack and what to do."""


class ReviewUsage(ReviewError):
    """Bad input the user must fix (the message names the setting and the fix); exit 2."""


class TeardownIncomplete(ReviewError):
    """A teardown left something behind (a process, port, folder, file or stack), named."""
