"""`mentora-infra up` finishes or undoes a rotation that was interrupted (rotation/engine.py's
reconcile), right after its deploy: the app then runs and the state is what it keeps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rotation.journal import Journal, JournalDamaged


def finish_interrupted(stack: str, root: Path, say: Callable[[str], None]) -> str:
    """Reconcile a rotation the journal names; a problem to report ("" when fine or none)."""
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
            f"work: `mentora-infra rotate {stack} {' '.join(entry.kinds)}` finishes it"
        )
        return ""
    from rotation.engine import reconcile

    try:
        reconcile(stack, root, say)
    except Exception as exc:  # noqa: BLE001 - reported as the gate's failure, without locals
        return (
            f"an interrupted rotation could not be reconciled ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:300] if str(exc) else ''}); its journal is kept: "
            f"run `mentora-infra rotate {stack}` again"
        )
    return ""
