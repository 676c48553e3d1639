"""Redis: the app's ACL users, alternating, as on Upstash (rotation/cloud_upstash.py). Each
rotation creates the other user of the pair (`mentora_a` / `mentora_b`) with a new password
beside the current one; once the app uses it, the old user is deleted (`ACL DELUSER`, which
also closes its connections). The app starts as `default`, the stack's own user: its first
rotation moves the app to `mentora_a` and gives `default` a new password too, the old one
removed by its hash (`ACL SETUSER default !<sha256>`). The server's start config names only the
state's users and passwords, so a restart keeps exactly the rotated credentials.
"""

from __future__ import annotations

import secrets
from typing import Any

from components.local.redis_server import ADMIN_USER, APP_USER_RULES, digest, set_user, url
from rotation.cloud_upstash import BASE
from rotation.kinds import Created, NotRefused
from rotation.pairs import other, pair
from rotation.state import StackState, secret

RESOURCE = "cache-server"


def _admin(out: dict[str, Any]) -> Any:
    import redis

    return redis.Redis(
        host=out["host"],
        port=int(out["port"]),
        username=ADMIN_USER,
        password=str(out["password"]),
        socket_timeout=3,
        socket_connect_timeout=3,
    )


class Cache:
    """Rotates the app's Redis user between the two ACL users of its pair."""

    name = "cache"

    def create(self, state: StackState) -> Created:
        out = state.outputs(RESOURCE)
        current = str(out.get("app_login") or ADMIN_USER)
        login, password = other(current, BASE), secrets.token_urlsafe(24)
        old_url, new_url = str(out["url"]), url(login, password, int(out["port"]))
        pairs = {old_url: new_url}  # first: the URL holds the old password, replaced below
        outputs: dict[tuple[str, str], Any] = {(RESOURCE, "app_login"): login}
        with _admin(out) as client:
            set_user(client, login, APP_USER_RULES, password)
            if current == ADMIN_USER:  # the app's old password is the stack's: replace both
                admin = secrets.token_urlsafe(24)  # a second password (`#`: never in clear)
                client.execute_command("ACL", "SETUSER", ADMIN_USER, f"#{digest(admin)}")
                pairs[str(out["password"])] = admin
                outputs[(RESOURCE, "app_password")] = secret(password)
            else:
                pairs[str(out["app_password"])] = password
        return Created(self.name, pairs, {"url": old_url, "user": current}, outputs=outputs)

    def revoke_others(self, state: StackState) -> list[str]:
        out = state.outputs(RESOURCE)
        keep_login = out.get("app_login")
        keep = digest(str(out["password"]))
        revoked = []
        with _admin(out) as client:
            info = client.acl_getuser(ADMIN_USER) or {}
            for hashed in info.get("passwords") or []:
                if hashed != keep:
                    client.execute_command("ACL", "SETUSER", ADMIN_USER, f"!{hashed}")
                    revoked.append(f"redis password sha256:{hashed[:8]}")
            existing = set(client.acl_users())
            for login in pair(BASE):
                if login != keep_login and login in existing:
                    client.execute_command("ACL", "DELUSER", login)
                    revoked.append(f"redis user {login}")
        return revoked

    def refused(self, state: StackState, old: dict[str, str]) -> str:
        import redis

        client = redis.Redis.from_url(old["url"], socket_timeout=3, socket_connect_timeout=3)
        try:
            client.ping()
        except redis.AuthenticationError as exc:
            return f"redis: {str(exc).splitlines()[0]}"
        finally:
            client.close()
        raise NotRefused(f"redis: the old credential of {old['user']} still authenticates")
