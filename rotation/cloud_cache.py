"""The Upstash side of `rotate <cloud stack> cache` (the order is rotation/cloud_driver.py's).

The app logs in through the cache's `AppCredential` (components/cloud/app_credential.py):
`default` until the first rotation, then ACL users `mentora_a` / `mentora_b` alternating
(rotation/cloud_upstash.py: ACL GENTOKEN, SETUSER, RESTTOKEN; Upstash applies ACL changes at
once, so the new user is proven with a PING). The state then names the new user in that
resource only; the gate's `up` writes REDIS_URL and UPSTASH_REDIS_REST_TOKEN from it. After a
green gate the old user is retired: an ACL user is deleted (ACL DELUSER), `default` - which ACL
cannot change - gets a new password through the Developer API, written into the database's
resource in the state so `drift` finds nothing. Either way the old credential is shown refused
(WRONGPASS). An unsaved rotation is undone by deleting the user it made, never the state's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rotation import cloud_upstash
from rotation.cloud_driver import Say
from rotation.journal import Entry
from rotation.pairs import other
from rotation.state import StackState, secret, unwrap

DATABASE_TYPE = "upstash:index/redisDatabase:RedisDatabase"
PROVIDER_TYPE = "pulumi:providers:upstash"
LOGIN_SUFFIX = "-app-login"
DYNAMIC = "pulumi-python:dynamic:Resource"


@dataclass(frozen=True)
class Login:
    """The app's Upstash login as the state names it (secrets never printed)."""

    user: str
    password: str
    rest_token: str


class StillAccepted(Exception):
    """Upstash still accepted a retired credential."""


@dataclass
class UpstashLogin:
    """The `cache` kind of a cloud stack: the app's Upstash user."""

    connect: Callable[[str, int, str, str], Any]
    """A Redis client for (endpoint, port, user, password)."""
    reset: Callable[[str, str, str], dict[str, str]]
    """cloud_upstash.reset_default bound to an HTTP client: (email, api key, database id)."""
    name: str = "cache"

    def _login_resource(self, state: StackState) -> dict[str, Any]:
        return state.one(DYNAMIC, "UpstashCache$", LOGIN_SUFFIX)

    def current(self, state: StackState) -> Login:
        outputs = unwrap(self._login_resource(state).get("outputs") or {})
        return Login(str(outputs["name"]), str(outputs["secret"]), str(outputs["extra"]))

    def identity(self, credential: Any) -> str:
        return self.public_name(credential)

    def public_name(self, credential: Any) -> str:
        return str(credential.user)

    def _client(self, state: StackState, user: str, password: str) -> Any:
        database = unwrap(state.one(DATABASE_TYPE).get("outputs") or {})
        return self.connect(str(database["endpoint"]), int(database["port"]), user, password)

    def create(self, state: StackState, old: Login) -> cloud_upstash.AclCredential:
        new = cloud_upstash.begin(self._client(state, old.user, old.password), old.user)
        self._client(state, new.user, new.token).ping()  # ACL changes apply at once
        return new

    def name_new(self, state: StackState, old: Login, new: cloud_upstash.AclCredential) -> None:
        outputs = self._login_resource(state).setdefault("outputs", {})
        outputs["name"] = new.user
        outputs["secret"], outputs["extra"] = secret(new.token), secret(new.rest_token)

    def saved(self, state: StackState, entry: Entry) -> bool:
        return self.current(state).user != entry.previous

    def undo(self, state: StackState, entry: Entry, say: Say) -> None:
        now = self.current(state)
        made = other(entry.previous, cloud_upstash.BASE)
        admin = self._client(state, now.user, now.password)
        if made != now.user and made in admin.acl_users():
            cloud_upstash.finish(admin, made)
        say(f"rotate cache: undid an unfinished rotation (user {made} removed if it was made)")

    def retire(self, state: StackState, entry: Entry, old: Login | None, say: Say) -> None:
        """Also writes the state when `default` gets a new password (the database's resource
        holds it)."""
        now = self.current(state)
        gone = entry.previous
        if gone == cloud_upstash.DEFAULT_USER:
            provider = unwrap(state.one(PROVIDER_TYPE).get("inputs") or {})
            database = state.one(DATABASE_TYPE)
            database_id = str(unwrap(database.get("outputs") or {})["databaseId"])
            fresh = self.reset(str(provider["email"]), str(provider["apiKey"]), database_id)
            outputs = database.setdefault("outputs", {})
            outputs["password"] = secret(fresh["password"])
            outputs["restToken"] = secret(fresh["rest_token"])
            outputs["readOnlyRestToken"] = secret(fresh["read_only_rest_token"])
            state.save()
            say("rotate cache: `default` has a new password (Developer API reset-password)")
        else:
            cloud_upstash.finish(self._client(state, now.user, now.password), gone)
            say(f"rotate cache: the old user {gone} is deleted (ACL DELUSER)")
        if old is not None and _accepted(self._client(state, old.user, old.password)):
            raise StillAccepted(f"upstash: the retired credential of {gone} still logs in")
        if old is not None:
            say(f"rotate cache: Upstash refuses the old credential of {gone} (WRONGPASS)")


def _accepted(client: Any) -> bool:
    from redis.exceptions import AuthenticationError

    try:
        client.ping()
    except AuthenticationError:
        return False
    return True
