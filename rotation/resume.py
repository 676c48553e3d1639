"""`mentora-infra up` finishes or undoes a rotation that was interrupted (rotation/engine.py's
reconcile), right after its deploy: the app then runs and the state is what it keeps. On a
cloud stack it also puts back the database login the state names, when a restore rewound it
(rotation/cloud_db_login.py `repair`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gate.exitcodes import Exit
from rotation import described
from rotation.cloud_driver import command
from rotation.journal import Journal, JournalDamaged


def repair_cloud_login(stack: str, root: Path, say: Callable[[str], None]) -> str:
    """A cloud stack's database login as the state names it; a problem to report, or ""."""
    from gate.runner import stack_target

    if stack_target(stack, root) == "local":
        return ""
    from rotation.cloud import supabase_login
    from rotation.state import StackState, StateError

    try:
        state = StackState(stack, root).load()
        state.one("pulumi-python:dynamic:Resource", "SupabaseDatabase$", "-app-login")
    except StateError:
        return ""  # no state to read, or a stack with no login of its own (a review branch)

    def no_reset(_urns: list[str]) -> Exit:
        raise AssertionError("a repair never resets postgres' password")

    return supabase_login(no_reset).repair(state, say)


def finish_interrupted(stack: str, root: Path, say: Callable[[str], None]) -> str:
    """Reconcile a rotation the journal names, and (cloud) the database login a restore
    rewound; a problem to report ("" when fine or none)."""
    if problem := repair_cloud_login(stack, root, say):
        return problem
    journal = Journal(stack, root)
    if not journal.path.exists():
        return ""
    try:
        entry = journal.read()
    except JournalDamaged:
        entry = None  # reconcile below names the damaged file
    if entry is not None and entry.cloud:
        # Nothing the app holds is revoked until a green gate: this deploy is safe as it is.
        say(
            f"a rotation of {', '.join(entry.kinds)} stopped at `{entry.step}`; both keys still "
            f"work: `mentora-infra rotate {stack} {command(entry.kinds[0])}` finishes it"
        )
        return ""
    from rotation.engine import reconcile

    try:
        reconcile(stack, root, say)
    except Exception as exc:  # noqa: BLE001 - reported as the gate's failure, without locals
        return (
            f"an interrupted rotation could not be reconciled ({described(exc)}); its journal "
            f"is kept: run `mentora-infra rotate {stack}` again"
        )
    return ""
