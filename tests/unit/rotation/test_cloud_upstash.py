"""Upstash ACL rotation against Upstash's published command docs
(https://upstash.com/docs/redis/commands/server/acl-gentoken, acl-setuser, acl-resttoken):
SETUSER takes only a GENTOKEN token as `>password` (plain passwords, `#hash` and `nopass` are
refused), the `default` user cannot be modified, RESTTOKEN needs the user and its password.
The fake enforces exactly those rules."""

from __future__ import annotations

from typing import Any

import pytest

from rotation import cloud_upstash


class Upstash:
    """ACL as Upstash documents it, over an in-memory user table."""

    def __init__(self) -> None:
        self.users: dict[str, str] = {"default": "default-pw", "mentora_a": "tok-mentora_a-1"}
        self.tokens: set[str] = set()
        self.commands: list[str] = []

    def execute_command(self, *args: Any) -> Any:
        self.commands.append(" ".join(str(a) for a in args[:2]))
        sub = args[1]
        if sub == "GENTOKEN":
            token = f"tok-{args[2]}-{len(self.tokens) + 2}"
            self.tokens.add(token)
            return token.encode()
        if sub == "SETUSER":
            user, rules = args[2], args[3:]
            if user == "default":
                raise RuntimeError("ERR the default user cannot be modified")
            passwords = [r[1:] for r in rules if r.startswith(">")]
            if any(p not in self.tokens for p in passwords) or "nopass" in rules:
                raise RuntimeError("ERR passwords must come from ACL GENTOKEN")
            if any(r.startswith("#") for r in rules) or not passwords:
                raise RuntimeError("ERR every user needs a GENTOKEN password")
            self.users[user] = passwords[-1]
            return b"OK"
        if sub == "RESTTOKEN":
            if self.users.get(args[2]) != args[3]:
                raise RuntimeError("ERR wrong user or password")
            return f"rest-{args[2]}".encode()
        if sub == "DELUSER":
            if args[2] == "default":
                raise RuntimeError("ERR the default user cannot be removed")
            self.users.pop(args[2], None)
            return 1
        raise AssertionError(f"not an Upstash ACL command: {args}")


def test_the_other_user_is_made_with_a_gentoken_password_and_its_rest_token() -> None:
    redis = Upstash()
    new = cloud_upstash.begin(redis, current="mentora_a")
    assert (new.user, new.rest_token) == ("mentora_b", "rest-mentora_b")
    assert set(redis.users) == {"default", "mentora_a", "mentora_b"}  # both alive
    assert cloud_upstash.finish(redis, "mentora_a") is True
    assert set(redis.users) == {"default", "mentora_b"}
    assert redis.commands == ["ACL GENTOKEN", "ACL SETUSER", "ACL RESTTOKEN", "ACL DELUSER"]


def test_default_is_never_modified_and_only_a_reset_while_in_use_is_a_window() -> None:
    redis = Upstash()
    new = cloud_upstash.begin(redis, current="default")
    assert new.user == "mentora_a"
    assert cloud_upstash.finish(redis, "default") is False
    assert "default" in redis.users
    assert cloud_upstash.needs_window("default", app_uses_it=True)
    assert not cloud_upstash.needs_window("default", app_uses_it=False)
    assert not cloud_upstash.needs_window("mentora_a", app_uses_it=True)
    with pytest.raises(RuntimeError, match="cannot be modified"):
        redis.execute_command("ACL", "SETUSER", "default", ">x")
