"""`rotate <cloud stack> storage`: the app's IAM access key replaced with two keys alive across
the switch, the switch itself being a gated deploy.

1. `begun`: journaled (no secret, no key id: the user and the start time find a rotation's key);
2. `created`: a second key of the app's IAM user (cloud_aws.begin), then waited for until AWS
   accepts it (IAM propagates late);
3. `saved`: the stack's state names the new key in the app key's resource only (its id and
   secret; `pulumi stack import` encrypts the secret). The Vercel variables still hold the old
   key in the state, so the next `up` sees the difference and writes the new one;
4. `smoked`: the cloud gate (`Gate`, holding the lock this rotation holds): `up --refresh` writes
   the variables and builds a deployment, smoke runs against it, and only a green smoke promotes
   it to the production domains;
5. `revoked`: after a drain, the old key is made inactive, deleted and shown refused by STS.

Nothing the app may hold is revoked before a green gate: a gate that fails or is interrupted
leaves both keys valid and the journal at `saved`; the next `rotate` runs the gate again and
finishes. A rotation stopped before `saved` is undone by the next `rotate`: a key of the user
made after the rotation began and not named by the state is deleted (the app never saw it).
The state lives in Pulumi's backend, not in the committed stack file, so a deploy of main from
CI cannot bring a retired key back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gate import interrupts
from gate.exitcodes import Exit
from rotation import cloud_aws
from rotation.journal import Entry, Journal
from rotation.state import StackState, StateError, replaced, secret, unwrap

TYPE = "aws:iam/accessKey:AccessKey"
APP_KEY_SUFFIX = "-app-key"
Say = Callable[[str], None]
CLOCK_MARGIN = timedelta(minutes=5)
DRAIN_S = 30.0
"""Requests already running on the previous deployment (holding the old key) finish first."""
DERIVED = ("sesSmtpPasswordV4", "encryptedSecret", "encryptedSesSmtpPasswordV4", "keyFingerprint")
"""Outputs the provider derives from a key's secret at create: stale for the new key, dropped."""


@dataclass(frozen=True)
class AppKey:
    """The app's access key as the state names it (the secret is never printed)."""

    user: str
    access_key_id: str
    secret_access_key: str


@dataclass
class Clients:
    """What a cloud storage rotation talks to; tests pass botocore-stubbed clients."""

    iam: Any
    sts_for: Callable[[str, str], Any]
    """An STS client signed with (access key id, secret)."""
    gate: Callable[[], Exit]
    """One gate run of the stack, the lock already held."""
    state: Callable[[str, Path], StackState] = StackState
    """The stack's state (Pulumi's backend through the CLI)."""
    drain_s: float = DRAIN_S
    settle_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep


def _key_resource(state: StackState) -> dict[str, Any]:
    found = [
        r
        for r in state.resources()
        if r.get("type") == TYPE and r.get("urn", "").endswith(APP_KEY_SUFFIX)
    ]
    if len(found) != 1:
        raise StateError(
            f"{state.stack}: the state holds {len(found)} app access keys ({TYPE} named "
            f"*{APP_KEY_SUFFIX}), not one; run `mentora-infra up {state.stack}` first"
        )
    return found[0]


def app_key(state: StackState) -> AppKey:
    """The app's key in the state."""
    resource = _key_resource(state)
    outputs = unwrap(resource.get("outputs") or {})
    return AppKey(str(outputs["user"]), str(resource["id"]), str(outputs["secret"]))


def name_key(state: StackState, old: AppKey, new: cloud_aws.NewKey) -> None:
    """The app key's resource names `new` instead of `old` (nothing else in the state moves)."""
    resource = _key_resource(state)
    pairs = {old.access_key_id: new.access_key_id, old.secret_access_key: new.secret_access_key}
    outputs = {
        k: replaced(v, pairs)
        for k, v in (resource.get("outputs") or {}).items()
        if k not in DERIVED
    }
    outputs["id"], outputs["secret"] = new.access_key_id, secret(new.secret_access_key)
    outputs["createDate"] = datetime.now(UTC).isoformat()
    resource["id"], resource["outputs"] = new.access_key_id, outputs


def _keys(clients: Clients, user: str) -> list[dict[str, Any]]:
    return list(clients.iam.list_access_keys(UserName=user)["AccessKeyMetadata"])


def _retire_others(clients: Clients, user: str, keep: str, say: Say) -> int:
    """Retire every key of `user` but `keep` (the one the promoted app uses); how many."""
    others = [k["AccessKeyId"] for k in _keys(clients, user) if k["AccessKeyId"] != keep]
    for key_id in others:
        cloud_aws.finish(clients.iam, user, key_id)
    left = [k["AccessKeyId"] for k in _keys(clients, user) if k["AccessKeyId"] != keep]
    if left:
        raise cloud_aws.KeyNotSettled(f"aws: IAM still lists {len(left)} retired key(s) of {user}")
    say(f"rotate storage: {len(others)} old key(s) of {user} made inactive and deleted")
    return len(others)


def _made_since(clients: Clients, user: str, entry: Entry) -> list[str]:
    """Keys of `user` created since `entry` began (less a clock margin: AWS's clock, not ours)."""
    since = datetime.fromisoformat(entry.started) - CLOCK_MARGIN if entry.started else None
    return [k["AccessKeyId"] for k in _keys(clients, user) if since and k["CreateDate"] >= since]


def _undo_unsaved(clients: Clients, key: AppKey, made: list[str], say: Say) -> None:
    """A rotation stopped before `saved`: delete the keys it made, never the state's own (the
    one the promoted app holds)."""
    unused = [key_id for key_id in made if key_id != key.access_key_id]
    for key_id in unused:
        cloud_aws.finish(clients.iam, key.user, key_id)
    say(f"rotate storage: undid an unfinished rotation ({len(unused)} unused key(s) deleted)")


def _switch_and_revoke(
    clients: Clients,
    state: StackState,
    journal: Journal,
    entry: Entry,
    old: AppKey | None,
    say: Say,
) -> Exit:
    """Steps 4 and 5: the gate, then the old key retired (`old` None: reconciling, no secret)."""
    code = Exit(clients.gate())
    if code != Exit.GREEN:
        say(
            f"rotate storage: the gate ended {int(code)}; nothing was revoked, both keys work. "
            f"`mentora-infra rotate {state.stack} storage` runs the gate again and finishes"
        )
        return code
    journal.record(entry, "smoked")
    clients.sleep(clients.drain_s)
    new = app_key(state.load())
    _retire_others(clients, new.user, new.access_key_id, say)
    if old is not None:
        cloud_aws.until_refused(
            clients.sts_for(old.access_key_id, old.secret_access_key),
            clients.settle_s,
            clients.sleep,
        )
        shown = old.access_key_id[:8]
        say(f"rotate storage: AWS refuses the old key {shown}... ({cloud_aws.REFUSED})")
    journal.record(entry, "revoked")
    journal.clear()
    return Exit.GREEN


def rotate(stack: str, root: Path, clients: Clients, say: Say) -> Exit:
    """Rotate the app's storage key of a cloud stack (the caller holds the gate lock)."""
    journal = Journal(stack, root)
    state = clients.state(stack, root).load()
    if (left := journal.read()) is not None:
        key = app_key(state)
        made = _made_since(clients, key.user, left)
        # Saved, though the journal may not say so yet: the state names a key this one made.
        if left.step in ("begun", "created") and key.access_key_id not in made:
            _undo_unsaved(clients, key, made, say)
            journal.clear()
        else:
            say(f"rotate storage: finishing the rotation stopped at `{left.step}`")
            return _switch_and_revoke(clients, state, journal, left, None, say)
    old = app_key(state)
    entry = Entry(kinds=["storage"], cloud=True, started=datetime.now(UTC).isoformat())
    journal.record(entry, "begun")
    new = cloud_aws.begin(clients.iam, old.user, old.access_key_id)
    journal.record(entry, "created")
    usable = clients.sts_for(new.access_key_id, new.secret_access_key)
    cloud_aws.until_usable(usable, clients.settle_s, clients.sleep)
    name_key(state, old, new)
    with interrupts.deferred():  # a signal waits until the state and the journal agree
        state.save()
        journal.record(entry, "saved")
    say(f"rotate storage: {old.user} has a second key {new.access_key_id[:8]}...; gating it")
    return _switch_and_revoke(clients, state, journal, entry, old, say)
