"""The gate's exit codes, in one table (shown by `mentora-infra --help` and README).

Every way a `mentora-infra` command ends is one of these; the one exception the CLI cannot
choose is a SIGKILL (the shell shows 137): the kernel drops the gate's lock, and a rollback that
was under way leaves the stack held, as on SIGTERM.
"""

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
    DRIFT = 6
    BUSY = 7
    INTERRUPTED = 130


MEANINGS: dict[Exit, str] = {
    Exit.GREEN: "green: deployed (if asked) and every smoke check passed",
    Exit.FAILED: "failed: the deployment or a smoke check failed (reported, nothing changed "
    "after); also an unexpected internal error (its traceback is shown)",
    Exit.USAGE: "bad input: arguments, config, a stack file, a missing pulumi CLI or a missing "
    "output (named, with the fix); nothing was touched",
    Exit.DEADLINE: "the smoke suite's overall --deadline was hit (its cleanup still ran)",
    Exit.ROLLED_BACK: "failed, then rolled back: local stacks redeployed the last-known-good "
    "commit and its smoke is green again; cloud stacks point the production domains at the "
    "last-known-good deployment again (a failed gate never promoted the new one)",
    Exit.HELD: "held: the stack (or the one it is promoted from) is held, or a rollback could not "
    "reproduce the last-known-good exactly; nothing was deployed after the hold "
    "(lift it: mentora-infra release <stack>)",
    Exit.DRIFT: "drift: `drift` found a resource or setting changed out of band (the table "
    "names each; the state was not written; `up` puts it back)",
    Exit.BUSY: "busy: another gate (named) holds the stack's gate lock, or Pulumi's own lock on "
    "the stack; nothing was deployed, rolled back or recorded",
    Exit.INTERRUPTED: "interrupted by SIGINT (Ctrl-C) or SIGTERM: pulumi was cancelled "
    "gracefully, nothing was rolled back; an interrupted rollback leaves the stack held",
}


def table() -> str:
    """`code  meaning` lines."""
    return "\n".join(f"  {int(code)}  {MEANINGS[code]}" for code in Exit)
