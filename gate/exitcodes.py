"""The gate's exit codes, in one table (shown by `mentora-infra --help` and README)."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """How a `mentora-infra` command ended."""

    GREEN = 0
    FAILED = 1
    USAGE = 2
    DEADLINE = 3
    ROLLED_BACK = 4
    HELD = 5


MEANINGS: dict[Exit, str] = {
    Exit.GREEN: "green: deployed (if asked) and every smoke check passed",
    Exit.FAILED: "failed: the deployment or a smoke check failed (reported, nothing changed after)",
    Exit.USAGE: "bad input: arguments, config or a missing output (named, with the fix)",
    Exit.DEADLINE: "the smoke suite's overall --deadline was hit (its cleanup still ran)",
    Exit.ROLLED_BACK: "failed, then rolled back to the last-known-good commit; smoke green again",
    Exit.HELD: "held: the stack (or the one it is promoted from) is held; nothing was deployed "
    "after the hold (lift it: mentora-infra release <stack>)",
}


def table() -> str:
    """`code  meaning` lines."""
    return "\n".join(f"  {int(code)}  {MEANINGS[code]}" for code in Exit)
