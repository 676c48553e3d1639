"""The Supabase side of `rotate <cloud stack> database`: the server key the app holds
(SUPABASE_SERVICE_ROLE_KEY), moved to secret API keys that alternate (`mentora_app_a`,
`mentora_app_b`; rotation/cloud_supabase.py). The order is rotation/cloud_driver.py's.

Requests (Management API, supabase/cli packages/api/src/generated/openapi.json @1d1e719):
v1-get-project-api-keys, v1-create-project-api-key, v1-delete-project-api-key and
v1-update-project-legacy-api-keys (`PUT /v1/projects/{ref}/api-keys/legacy?enabled=false`).
A key is proven by the project's Data API: `GET https://<ref>.supabase.co/rest/v1/` with the
key in the `apikey` header answers 401 for a key it does not accept.

Retiring: a secret key of the pair is deleted. The project's legacy `service_role` JWT cannot be
deleted alone; Supabase disables the legacy keys together (anon too), so it is disabled only when
the browser's public key is already a publishable key, else it stays valid and `rotate` says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rotation.cloud_driver import Say, until
from rotation.cloud_supabase import SecretKey, SecretKeys, credential, project
from rotation.journal import Entry
from rotation.pairs import other, pair
from rotation.state import StackState, secret, unwrap

BASE = "mentora_app"
LEGACY = "legacy"


@dataclass(frozen=True)
class ServerKey:
    """The key the state names (its value is never printed)."""

    name: str
    value: str


@dataclass
class SupabaseServerKey:
    """The `database` kind's server key on a cloud stack."""

    keys_for: Callable[[str, str], SecretKeys]
    """SecretKeys for (access token, project ref)."""
    accepts: Callable[[str, str], bool]
    """Whether the Data API at (project url) accepts (key)."""
    settle_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    name: str = "database-key"

    def _keys(self, state: StackState) -> SecretKeys:
        found = project(state)
        return self.keys_for(str(found["access_token"]), str(found["ref"]))

    def current(self, state: StackState) -> ServerKey:
        outputs = unwrap(credential(state, "-service-key").get("outputs") or {})
        return ServerKey(str(outputs["name"]), str(outputs["secret"]))

    def identity(self, credential: Any) -> str:
        return self.public_name(credential)

    def public_name(self, credential: Any) -> str:
        return str(getattr(credential, "name", ""))

    def _until(self, state: StackState, key: str, accepted: bool, what: str) -> None:
        url = str(project(state)["url"])
        until(
            lambda: self.accepts(url, key), accepted, f"supabase: {what}", self.settle_s, self.sleep
        )

    def create(self, state: StackState, old: ServerKey) -> SecretKey:
        keys = self._keys(state)
        current = next((k.id for k in keys.list() if k.name == old.name), "")
        new = keys.begin(current)
        self._until(state, new.api_key, True, f"the Data API did not accept the new {new.name}")
        return new

    def name_new(self, state: StackState, old: ServerKey, new: SecretKey) -> None:
        outputs = credential(state, "-service-key").setdefault("outputs", {})
        outputs["name"], outputs["secret"] = new.name, secret(new.api_key)

    def saved(self, state: StackState, entry: Entry) -> bool:
        return self.current(state).name != entry.previous

    def undo(self, state: StackState, entry: Entry, say: Say) -> None:
        made, keys = other(entry.previous, BASE), self._keys(state)
        if made != self.current(state).name:
            for key in [k for k in keys.list() if k.name == made]:
                keys.delete(key.id)
        say(f"rotate database: undid an unfinished rotation (secret key {made} removed if made)")

    def retire(self, state: StackState, entry: Entry, old: ServerKey | None, say: Say) -> None:
        gone, keys = entry.previous, self._keys(state)
        if gone in pair(BASE):
            for key in [k for k in keys.list() if k.name == gone]:
                keys.delete(key.id)
            say(f"rotate database: the old secret key {gone} is deleted")
        elif gone != LEGACY:
            say(
                f"rotate database: the project's own secret key ({gone}) was not made by "
                "`rotate` and may serve others: it is left; delete it in the dashboard "
                "(Settings -> API Keys) once nothing uses it"
            )
            return
        elif project(state).get("anon_key_kind") == "publishable":
            keys.disable_legacy()
            say("rotate database: the legacy API keys (service_role, anon) are disabled")
        else:
            say(
                "rotate database: the legacy service_role key still works: Supabase disables "
                "legacy keys only together, and the browser still uses the legacy anon key. "
                "Create a publishable key (dashboard, Settings -> API Keys), `up`, then rotate "
                "again to disable them"
            )
            return
        if old is not None:
            self._until(state, old.value, False, f"the retired key {gone} was still accepted")
            say(f"rotate database: the Data API refuses the old key {gone} (401)")
