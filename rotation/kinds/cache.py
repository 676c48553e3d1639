"""Redis: two passwords of the app's ACL user at once (`ACL SETUSER default >new`), the old one
removed by its hash once the app uses the new (`ACL SETUSER default !<sha256>`). The server's
start config names only the state's password (`user default on #<sha256>`), so a restart keeps
exactly the rotated credential. Connections already authenticated with the old password stay
open until the app closes its old pool (10 s after the switch): Redis checks a password at AUTH.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from rotation.kinds import Created, NotRefused
from rotation.state import StackState

RESOURCE = "cache-server"
USER = "default"


def _client(out: dict[str, Any], password: str) -> Any:
    import redis

    return redis.Redis(
        host=out["host"],
        port=int(out["port"]),
        username=USER,
        password=password,
        socket_timeout=3,
        socket_connect_timeout=3,
    )


class Cache:
    """Rotates the Redis password of the app's user."""

    name = "cache"

    def create(self, state: StackState) -> Created:
        out = state.outputs(RESOURCE)
        old, new = str(out["password"]), secrets.token_urlsafe(24)
        with _client(out, old) as client:
            client.execute_command("ACL", "SETUSER", USER, f">{new}")
        return Created(self.name, {old: new}, {"password": old})

    def revoke_others(self, state: StackState) -> list[str]:
        out = state.outputs(RESOURCE)
        keep = hashlib.sha256(str(out["password"]).encode()).hexdigest()
        revoked = []
        with _client(out, str(out["password"])) as client:
            info = client.acl_getuser(USER) or {}
            for digest in info.get("passwords") or []:
                if digest != keep:
                    client.execute_command("ACL", "SETUSER", USER, f"!{digest}")
                    revoked.append(f"redis password sha256:{digest[:8]}")
        return revoked

    def refused(self, state: StackState, old: dict[str, str]) -> str:
        import redis

        out = state.outputs(RESOURCE)
        try:
            with _client(out, old["password"]) as client:
                client.ping()
        except redis.AuthenticationError as exc:
            return f"redis: {str(exc).splitlines()[0]}"
        raise NotRefused("redis: the old password still authenticates")
