"""The order of a cloud stack's rotation, one credential kind at a time (each kind in
rotation/cloud_<kind>.py supplies the provider's side).

1. `begun`: journaled (no secret: the kind, the start time, what names the old credential - a
   user, a key's name, an access key id, which AWS treats as an identifier, not a secret);
2. `created`: the kind makes a second credential beside the old one and waits until the
   provider accepts it;
3. `saved`: the stack's state names the new credential in the one resource that carries it
   (`pulumi stack import` encrypts it). The app's Vercel variables still hold the old value in
   the state, so the gate's `up` sees the difference and writes the new one;
4. `smoked`: the cloud gate, under the lock this rotation holds: `up --refresh`, a deployment
   built with the new variables, smoke against it, and only a green smoke promotes it;
5. `revoked`: after a drain for requests still running on the previous deployment, the old
   credential is revoked and shown refused.

Nothing the production app may hold is revoked before a green gate: a gate that fails or is
interrupted leaves both credentials valid and the journal at `saved`, and the next `rotate`
runs the gate again and finishes. A rotation stopped before `saved` is undone by the next one:
only what it made, and the state does not name, is removed. The credential lives in Pulumi's
backend, not in the committed stack file, so a deploy of main from CI cannot bring back a
retired one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from gate import interrupts
from gate.exitcodes import Exit
from rotation.journal import Entry, Journal
from rotation.state import StackState, StateError

Say = Callable[[str], None]
POLL_S = 2.0
DRAIN_S = 30.0
"""Requests already running on the previous deployment (with the old credential) finish."""


class NotSettled(Exception):
    """A provider did not give the answer a rotation waits for within its bound (a new
    credential not accepted yet, a retired one still accepted)."""


def until(
    answer: Callable[[], object],
    want: object,
    what: str,
    deadline_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Ask `answer()` every POLL_S until it is `want`; NotSettled naming `what` and the last
    answer after `deadline_s` (providers apply credential changes late: IAM, a pooler)."""
    end = time.monotonic() + deadline_s
    while (got := answer()) != want:
        if time.monotonic() >= end:
            raise NotSettled(f"{what} within {deadline_s:.0f}s (last answer: {got})")
        sleep(POLL_S)


class CloudKind(Protocol):
    """One credential kind of a cloud stack: how it is made, named, undone and retired."""

    name: str

    def current(self, state: StackState) -> Any:
        """The credential the state names (its secret is never printed)."""

    def identity(self, credential: Any) -> str:
        """What names it exactly and is no secret (a user, a key's name, an access key id):
        the journal's `previous`, compared with the state's to know whether it was saved."""

    def public_name(self, credential: Any) -> str:
        """How messages name it (a user, a key's name, an access key id's first characters)."""

    def create(self, state: StackState, old: Any) -> Any:
        """A second credential, beside `old`, accepted by the provider."""

    def name_new(self, state: StackState, old: Any, new: Any) -> None:
        """Make the state name `new` where it named `old` (the caller saves)."""

    def saved(self, state: StackState, entry: Entry) -> bool:
        """Whether the state already names what the rotation of `entry` made."""

    def undo(self, state: StackState, entry: Entry, say: Say) -> None:
        """Remove what an unsaved rotation made; never what the state names."""

    def retire(self, state: StackState, entry: Entry, old: Any | None, say: Say) -> None:
        """Revoke every old credential of the kind and show it refused (`old` None: finishing
        an interrupted rotation, whose old secret is gone: shown through the provider's list)."""


@dataclass
class Run:
    """What a rotation of one cloud stack talks to besides the kind."""

    stack: str
    root: Path
    gate: Callable[[], Exit]
    """One gate run of the stack, the lock already held."""
    say: Say
    state: Callable[[str, Path], StackState] = StackState
    drain_s: float = DRAIN_S
    sleep: Callable[[float], None] = time.sleep


def command(kind_name: str) -> str:
    """The `rotate` argument that rotates a kind (`database-key` is part of `database`).

    >>> command("database-key"), command("cache")
    ('database', 'cache')
    """
    return kind_name.partition("-")[0]


def rotate(run: Run, kind: CloudKind) -> Exit:
    """Rotate `kind` on the stack (the caller holds the gate lock); the exit code."""
    journal = Journal(run.stack, run.root)
    state = run.state(run.stack, run.root).load()
    if (left := journal.read()) is not None:
        if left.kinds != [kind.name]:
            raise StateError(
                f"{run.stack}: a rotation of {', '.join(left.kinds)} is unfinished; run "
                f"`mentora-infra rotate {run.stack} {command(left.kinds[0])}` first"
            )
        # The state, not the journal, says how far it got: a kill between the import and the
        # journal leaves it saved at `created`; an update that wrote over the import leaves it
        # unsaved at `saved` or later.
        if not kind.saved(state, left):
            kind.undo(state, left, run.say)
            journal.clear()
        else:
            run.say(f"rotate {kind.name}: finishing the rotation stopped at `{left.step}`")
            return _switch_and_retire(run, kind, state, journal, left, None)
    old = kind.current(state)
    entry = Entry(
        kinds=[kind.name],
        cloud=True,
        started=datetime.now(UTC).isoformat(),
        previous=kind.identity(old),
    )
    journal.record(entry, "begun")
    new = kind.create(state, old)
    journal.record(entry, "created")
    kind.name_new(state, old, new)
    with interrupts.deferred():  # a signal waits until the state and the journal agree
        state.save()
        journal.record(entry, "saved")
    run.say(f"rotate {kind.name}: a second credential {kind.public_name(new)} exists; gating it")
    return _switch_and_retire(run, kind, state, journal, entry, old)


def _switch_and_retire(
    run: Run, kind: CloudKind, state: StackState, journal: Journal, entry: Entry, old: Any | None
) -> Exit:
    code = Exit(run.gate())
    if code != Exit.GREEN:
        run.say(
            f"rotate {kind.name}: the gate ended {int(code)}; nothing was revoked, both "
            f"credentials work. `mentora-infra rotate {run.stack} {command(kind.name)}` runs the "
            "gate again and finishes"
        )
        return code
    if not kind.saved(state.load(), entry):
        # Another update (another machine's gate) wrote its state over this rotation's: the app
        # was deployed with the old credential, so the new one is the one to remove.
        kind.undo(state, entry, run.say)
        journal.clear()
        run.say(
            f"rotate {kind.name}: the state names the old credential again (an update elsewhere "
            f"wrote over this rotation's); nothing of the app's was revoked; rotate again"
        )
        return Exit.FAILED
    journal.record(entry, "smoked")
    run.sleep(run.drain_s)
    kind.retire(state.load(), entry, old, run.say)
    journal.record(entry, "revoked")
    journal.clear()
    return Exit.GREEN
