"""The order of a local rotation, and the reconcile that finishes or undoes an interrupted one.

rotate(kinds):
  1. reconcile a rotation left in the journal (below);
  2. `begun`: recorded before anything is made;
  3. `created`: a second credential of each kind on its server, all kinds at once (the old
     ones still work);
  4. `saved`: the state names the new ones (secrets, `pulumi stack import`): the next `up` keeps
     them;
  5. `switched`: the env file is written and the app reports the new env's fingerprint;
  6. `smoked`: the smoke suite passes against the new outputs (on failure: everything back to
     the old credentials, the new ones revoked, exit 1);
  7. `revoked`: after a drain, every old credential is revoked and shown refused by its server
     (all kinds at once).

reconcile: whatever step a rotation stopped at, the state names credentials that work (the old
ones until `saved`, the new ones from then on: new ones exist before the state names them, old
ones are revoked only after the app uses the state's). So: switch the app to the state's env,
then revoke every other credential of the journal's kinds. Before `saved` that undoes the
rotation; from `saved` on it finishes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from components.app_secrets import FINGERPRINT_NAME, fingerprint
from rotation.journal import Entry, Journal
from rotation.kinds import Created, Kind, kinds
from rotation.state import StackState
from rotation.switch import DRAIN_S, switch

Say = Callable[[str], None]
T = TypeVar("T")
R = TypeVar("R")
ORDER = ("database", "cache", "storage", "errors")


@dataclass
class Outcome:
    """What a rotation did (no secret: names, steps, server answers, seconds)."""

    kinds: list[str]
    revoked: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    reconciled: str = ""
    seconds: float = 0.0
    ok: bool = True
    message: str = ""
    steps: dict[str, float] = field(default_factory=dict)
    """Seconds since the start at which each step was reached."""


def reconcile(stack: str, root: Path, say: Say) -> str:
    """Finish or undo the rotation the journal names; what was done ("" when none was left)."""
    journal = Journal(stack, root)
    entry = journal.read()
    if entry is None:
        return ""
    state = StackState(stack, root).load()
    env = state.env()
    now_fp = env.get(FINGERPRINT_NAME, "")
    switch(state)
    time.sleep(DRAIN_S)
    table = kinds()
    found = _each([table[name] for name in entry.kinds], lambda kind: kind.revoke_others(state))
    revoked = [item for items in found for item in items]
    journal.clear()
    verdict = "finished" if entry.after and now_fp == entry.after else "undone"
    done = (
        f"rotation of {', '.join(entry.kinds)} interrupted at '{entry.step}': {verdict} "
        f"(the app uses the state's credentials; revoked: {', '.join(revoked) or 'nothing'})"
    )
    say(done)
    return done


def rotate(
    stack: str,
    root: Path,
    names: list[str],
    smoke: Callable[[], bool],
    say: Say,
) -> Outcome:
    """Rotate `names` (kinds of the local stack) in the order above."""
    started = time.monotonic()
    outcome = Outcome(kinds=names)
    outcome.reconciled = reconcile(stack, root, say)
    table = kinds()
    chosen: list[Kind] = [table[name] for name in names]
    journal = Journal(stack, root)
    state = StackState(stack, root).load()
    entry = Entry(kinds=names, before=state.env().get(FINGERPRINT_NAME, ""))
    journal.record(entry, "begun")
    outcome.steps["begun"] = time.monotonic() - started
    # No leftovers to clear first: a rotation that made one left its journal, reconciled above.
    created: list[Created] = _each(chosen, lambda kind: kind.create(state))
    for kind in chosen:
        say(f"{kind.name}: second credential created")
    original = StackState(stack, root)
    original.document = _copy(state.document)
    for new in created:
        state.replace(new.pairs)
        for (resource, key), value in new.outputs.items():
            state.set_output(resource, key, value)
    entry.after = fingerprint(state.env())
    journal.record(entry, "created")
    outcome.steps["created"] = time.monotonic() - started
    state.save()
    journal.record(entry, "saved")
    outcome.steps["saved"] = time.monotonic() - started
    say("state: the new credentials saved as secrets")
    switch(state)
    journal.record(entry, "switched")
    outcome.steps["switched"] = time.monotonic() - started
    say(f"app: switched to config {entry.after}")
    if not smoke():
        say("smoke failed with the new credentials: back to the old ones")
        original.save()
        switch(original)
        time.sleep(DRAIN_S)
        for kind in chosen:
            kind.revoke_others(original)
        journal.clear()
        outcome.ok, outcome.message = False, "smoke failed with the new credentials; rolled back"
        outcome.seconds = time.monotonic() - started
        return outcome
    journal.record(entry, "smoked")
    outcome.steps["smoked"] = time.monotonic() - started
    time.sleep(DRAIN_S)

    def retire(pair: tuple[Kind, Created]) -> tuple[list[str], str]:
        kind, new = pair
        return kind.revoke_others(state), kind.refused(state, new.old)

    for kind, (revoked, answer) in zip(
        chosen, _each(list(zip(chosen, created, strict=True)), retire), strict=True
    ):
        outcome.revoked += revoked
        outcome.refused.append(answer)
        say(f"{kind.name}: old credential revoked; server says: {answer}")
    journal.record(entry, "revoked")
    journal.clear()
    outcome.steps["revoked"] = time.monotonic() - started
    outcome.seconds = time.monotonic() - started
    return outcome


def _each(items: list[T], work: Callable[[T], R]) -> list[R]:
    """`work` on every item at once (one kind's server does not wait for another's), results in
    order; the first error is raised after all have ended."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, len(items))) as pool:
        futures = [pool.submit(work, item) for item in items]
    return [future.result() for future in futures]


def _copy(document: dict[str, object]) -> dict[str, object]:
    import json

    return dict(json.loads(json.dumps(document)))
