"""The base stack a local review stack keeps its database and bucket in (`mentora:baseStack`,
stacks/local_tenant.py): waited for at `review up`; no destroy or restore of it takes a review
stack's data. What a review stack has there is review/tenant.py's."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from gate.lock import lock_path
from review import pulumi_cli
from review.errors import ReviewError, ReviewUsage
from review.lock import held
from review.naming import LOCAL_BASE

BASE_OUTPUT = "review_base"  # stacks/contract.py
POLL_S = 1.0
BASE_WAIT_S = 300.0
"""How long `review up` waits for its base stack (a `make up` started with it): a cold
`make up` takes ~45 s on this machine, more with review stacks starting beside it."""


def wait_for_base(
    root: Path,
    wait_s: float,
    say: Callable[[str], None],
    base: str = LOCAL_BASE,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once `base` is deployed with its `review_base` output and no gate of it runs;
    waits up to `wait_s` (a `make up` started at the same time), then ReviewUsage naming the
    fix."""
    deadline = clock() + wait_s
    said, unreadable = False, ""
    while True:
        running = held(lock_path(base, root))
        if not running:
            try:
                if pulumi_cli.output(root, base, BASE_OUTPUT) is not None:
                    return
                unreadable = ""
            except ReviewError as exc:  # a `make up` beside it may be writing the state
                unreadable = str(exc)
        if clock() >= deadline:
            why = "its gate is still running" if running else "it is not deployed"
            why = f"its state does not read ({unreadable})" if unreadable else why
            raise ReviewUsage(
                f"review: a review stack makes its database in the base stack {base}'s Postgres, "
                f"and {why} after {wait_s:g}s; bring it up first: make up (or "
                f"mentora-infra up {base}), then run review up again"
            )
        if not said:
            say(f"review: waiting up to {wait_s:g}s for the base stack {base} (make up)")
            said = True
        sleep(POLL_S)


def tenants_of(root: Path, base: str) -> list[str]:
    """The review stacks whose database lives in `base`'s Postgres, in PR order."""
    from review.naming import parse_review_stack
    from review.state import known_stacks

    stacks = known_stacks(root) if base == LOCAL_BASE else set()
    return sorted(stacks, key=lambda name: parse_review_stack(name) or 0)


def refuse_with_tenants(root: Path, base: str, action: str) -> None:
    """ReviewUsage naming the review stacks `action` on `base` would take the data of."""
    tenants = tenants_of(root, base)
    if tenants:
        downs = "; ".join(f"mentora-infra review down {t.removeprefix('pr-')}" for t in tenants)
        raise ReviewUsage(
            f"{action} {base}: its Postgres holds the databases of review stacks "
            f"{', '.join(tenants)}, which would go with it; remove them first: {downs}"
        )
