"""The AWS side of `rotate <cloud stack> storage` (the order is rotation/cloud_driver.py's).

The app's IAM user gets a second access key (IAM allows two), used only once STS accepts it
(IAM propagates late); the state then names it in the app key's resource, and only that
resource: the Vercel variables keep the old value in the state, so the gate's `up` writes the
new key into the app's env. After a green gate the old key is made inactive, deleted, and shown
refused by STS. Whether the state was saved is the state's key id against the journal's (whole
ids: two keys may share the prefix messages show). An unsaved rotation is undone by deleting
the keys of the user made since it began that the state does not name (less a margin for AWS's
clock against ours).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rotation import cloud_aws
from rotation.cloud_driver import NotSettled, Say
from rotation.journal import Entry
from rotation.state import StackState, replaced, secret, unwrap

TYPE = "aws:iam/accessKey:AccessKey"
APP_KEY_SUFFIX = "-app-key"
CLOCK_MARGIN = timedelta(minutes=5)
DERIVED = ("sesSmtpPasswordV4", "encryptedSecret", "encryptedSesSmtpPasswordV4", "keyFingerprint")
"""Outputs the provider derives from a key's secret at create: stale for the new key, dropped."""


@dataclass(frozen=True)
class AppKey:
    """The app's access key as the state names it (the secret is never printed)."""

    user: str
    access_key_id: str
    secret_access_key: str


@dataclass
class StorageKey:
    """The `storage` kind of a cloud stack: the app's IAM access key."""

    iam: Any
    sts_for: Callable[[str, str], Any]
    """An STS client signed with (access key id, secret)."""
    settle_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    name: str = "storage"

    def current(self, state: StackState) -> AppKey:
        resource = state.one(TYPE, suffix=APP_KEY_SUFFIX)
        outputs = unwrap(resource.get("outputs") or {})
        return AppKey(str(outputs["user"]), str(resource["id"]), str(outputs["secret"]))

    def identity(self, credential: Any) -> str:
        return str(credential.access_key_id)  # AWS: the id names a key, the secret proves it

    def public_name(self, credential: Any) -> str:
        key_id = credential.access_key_id
        return f"{key_id[:8]}..."

    def create(self, state: StackState, old: AppKey) -> cloud_aws.NewKey:
        new = cloud_aws.begin(self.iam, old.user, old.access_key_id)
        usable = self.sts_for(new.access_key_id, new.secret_access_key)
        cloud_aws.until_usable(usable, self.settle_s, self.sleep)
        return new

    def name_new(self, state: StackState, old: AppKey, new: cloud_aws.NewKey) -> None:
        resource = state.one(TYPE, suffix=APP_KEY_SUFFIX)
        pairs = {
            old.access_key_id: new.access_key_id,
            old.secret_access_key: new.secret_access_key,
        }
        outputs = {
            k: replaced(v, pairs)
            for k, v in (resource.get("outputs") or {}).items()
            if k not in DERIVED
        }
        outputs["id"], outputs["secret"] = new.access_key_id, secret(new.secret_access_key)
        outputs["createDate"] = datetime.now(UTC).isoformat()
        resource["id"], resource["outputs"] = new.access_key_id, outputs

    def _keys(self, user: str) -> list[dict[str, Any]]:
        return list(self.iam.list_access_keys(UserName=user)["AccessKeyMetadata"])

    def _made_since(self, user: str, entry: Entry) -> list[str]:
        if not entry.started:
            return []
        since = datetime.fromisoformat(entry.started) - CLOCK_MARGIN
        return [k["AccessKeyId"] for k in self._keys(user) if k["CreateDate"] >= since]

    def saved(self, state: StackState, entry: Entry) -> bool:
        return self.identity(self.current(state)) != entry.previous

    def undo(self, state: StackState, entry: Entry, say: Say) -> None:
        key = self.current(state)
        unused = [k for k in self._made_since(key.user, entry) if k != key.access_key_id]
        for key_id in unused:
            cloud_aws.finish(self.iam, key.user, key_id)
        say(f"rotate storage: undid an unfinished rotation ({len(unused)} unused key(s) deleted)")

    def retire(self, state: StackState, entry: Entry, old: AppKey | None, say: Say) -> None:
        keep = self.current(state)
        others = [k["AccessKeyId"] for k in self._keys(keep.user)]
        others = [k for k in others if k != keep.access_key_id]
        for key_id in others:
            cloud_aws.finish(self.iam, keep.user, key_id)
        if [k for k in self._keys(keep.user) if k["AccessKeyId"] != keep.access_key_id]:
            raise NotSettled(f"aws: IAM still lists a retired key of {keep.user}")
        say(f"rotate storage: {len(others)} old key(s) of {keep.user} made inactive and deleted")
        if old is not None:
            retired = self.sts_for(old.access_key_id, old.secret_access_key)
            cloud_aws.until_refused(retired, self.settle_s, self.sleep)
            say(
                f"rotate storage: AWS refuses the old key {self.public_name(old)} "
                f"({cloud_aws.REFUSED})"
            )
