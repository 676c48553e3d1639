"""The typed errors a check raises; the engine turns each into its result's outcome.

    Exception
    ├── CheckFailed      the stack is wrong or a service did not answer (outcome `failed`)
    ├── CheckSkipped     the check does not apply to this stack (outcome `skipped`)
    └── AssertionError   a plain `assert` in a check (outcome `failed`, its message kept)

Any other exception is a failure too, reported with its class and traceback.

>>> str(CheckFailed("cache: redis at 127.0.0.1:6390 timed out (is the stack up? run: make up)"))
'cache: redis at 127.0.0.1:6390 timed out (is the stack up? run: make up)'
"""

from __future__ import annotations


class CheckFailed(Exception):
    """Raised by a check (or its service's client) that found the stack wrong or unreachable;
    the message is the whole report: service, target, what happened and the fix."""


class CheckSkipped(Exception):
    """Raised by a check (or its client) that does not apply to this stack; the message says
    why (e.g. the local stack has no Data API)."""
