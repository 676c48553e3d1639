"""`rotate` on a cloud stack: what each provider's published API allows (rotation/cloud_*.py
hold the API requests, contract-tested in tests/unit/rotation/)."""

from __future__ import annotations

from collections.abc import Callable

from gate.exitcodes import Exit

WINDOWS = {
    "cache": (
        "Upstash: the database's `default` user cannot be changed through ACL (ACL SETUSER "
        "refuses it); its password only changes by a reset (POST /v2/redis/reset-password/{id}), "
        "which invalidates the TCP password and the REST token at once: the app holds a dead "
        "credential until its redeploy carries the new one."
    ),
}


def main(stack: str, what: str, accept_window: bool, say: Callable[[str], None]) -> int:
    """Exit code of `rotate <cloud stack> <what>`."""
    names = ["database", "cache", "storage", "errors"] if what == "all" else [what]
    windowed = [name for name in names if name in WINDOWS]
    if windowed and not accept_window:
        for name in windowed:
            say(f"rotate {stack} {name}: cannot be done without a window. {WINDOWS[name]}")
        say("pass --accept-window to rotate it anyway (the app fails until it is redeployed)")
        return int(Exit.USAGE)
    say(
        f"rotate {stack}: cloud rotation is not wired to the cloud stacks' state yet; the "
        "provider requests exist (rotation/cloud_*.py) and are contract-tested, nothing was "
        "changed"
    )
    return int(Exit.FAILED)
