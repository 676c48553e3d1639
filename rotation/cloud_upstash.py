"""Upstash Redis: a two-credential switch exists, through ACL users (Upstash docs,
https://upstash.com/docs/redis/commands/server/acl-setuser, .../acl-gentoken,
.../acl-resttoken):

- `ACL GENTOKEN <user>` makes the credential (SETUSER accepts only GENTOKEN's tokens as
  passwords; plain `>password` and `#hash` are refused);
- `ACL SETUSER <user> on >token ~* &* +@all` creates the user beside the current one;
- `ACL RESTTOKEN <user> <token>` gives its REST token (`UPSTASH_REDIS_REST_TOKEN`), so TCP and
  REST clients both switch;
- after the app runs on the new user: `ACL DELUSER <old>` (changes apply at once to new and
  existing connections).

Users alternate between `<base>_a` and `<base>_b`. The exception is the database's `default`
user, which the app starts with: ACL SETUSER refuses to modify it, so its password can only be
reset (Developer API `POST /v2/redis/reset-password/{id}`, which invalidates the TCP password
and the REST tokens at once). Resetting it while the app still uses it is a window; after the
first switch to an ACL user the app no longer does, so the reset costs the app nothing.
`needs_window(current_user)` says which case applies; `reset_default` is that reset (Upstash
Developer API, Redis > Reset Password: `POST https://api.upstash.com/v2/redis/reset-password/{id}`,
basic auth `EMAIL:API_KEY`, answered with the database, whose `password`, `rest_token` and
`read_only_rest_token` are the new ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rotation.pairs import other

API = "https://api.upstash.com"
DEFAULT_USER = "default"
RESET_FIELDS = ("password", "rest_token", "read_only_rest_token")
BASE = "mentora"
"""The app's ACL users are `<BASE>_a` and `<BASE>_b` (local and cloud stacks alike)."""
RULES = ("on", "~*", "&*", "+@all")


@dataclass(frozen=True)
class AclCredential:
    """A new ACL user's TCP password (a GENTOKEN token) and REST token."""

    user: str
    token: str
    rest_token: str


def needs_window(current_user: str, app_uses_it: bool) -> bool:
    """Whether retiring `current_user` leaves the app without a working credential for a while:
    only a reset of `default` while the app still logs in with it."""
    return current_user == DEFAULT_USER and app_uses_it


def begin(redis: Any, current: str, base: str = BASE) -> AclCredential:
    """Create the other ACL user of the pair beside `current`; its credentials."""
    user = other(current, base)
    token = _text(redis.execute_command("ACL", "GENTOKEN", user))
    redis.execute_command("ACL", "SETUSER", user, "reset", *RULES, f">{token}")
    rest = _text(redis.execute_command("ACL", "RESTTOKEN", user, token))
    return AclCredential(user, token, rest)


def finish(redis: Any, old: str) -> bool:
    """Delete the old ACL user once the app uses the new one; False for `default` (it cannot be
    deleted or changed through ACL: reset its password through the Developer API instead)."""
    if old == DEFAULT_USER:
        return False
    redis.execute_command("ACL", "DELUSER", old)
    return True


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class ResetFailed(Exception):
    """The Developer API did not reset the password; the message names the status and the fix."""


def reset_default(http: Any, email: str, api_key: str, database_id: str) -> dict[str, str]:
    """Reset the database's `default` password (and its REST tokens); the new values."""
    answer = http.post(
        f"{API}/v2/redis/reset-password/{database_id}", auth=(email, api_key), timeout=30.0
    )
    if answer.status_code != 200:
        raise ResetFailed(
            f"upstash: reset-password of database {database_id} answered HTTP "
            f"{answer.status_code}; check mentora:upstashEmail and mentora:upstashApiKey"
        )
    body = answer.json()
    return {field: str(body[field]) for field in RESET_FIELDS}
