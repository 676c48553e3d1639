"""Upstash ACL rotation against Upstash's published command docs
(https://upstash.com/docs/redis/commands/server/acl-gentoken, acl-setuser, acl-resttoken):
SETUSER takes only a GENTOKEN token as `>password` (plain passwords, `#hash` and `nopass` are
refused), the `default` user cannot be modified, RESTTOKEN needs the user and its password.
The fake enforces exactly those rules."""

from __future__ import annotations

import base64

import httpx
import pytest

from rotation import cloud_upstash
from tests.unit.rotation.provider_fakes import Upstash


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


def test_reset_default_is_the_developer_apis_reset_password() -> None:
    """Upstash Developer API, Redis > Reset Password
    (https://upstash.com/docs/devops/developer-api/redis/reset_password): `POST
    https://api.upstash.com/v2/redis/reset-password/{id}`, basic auth `EMAIL:API_KEY`, no body;
    answered with the database (the documented example below), new password and tokens."""
    seen: list[httpx.Request] = []
    documented = {
        "database_id": "96ad0856-03b1-4ee7-9666-e81abd0349e1",
        "database_name": "MyRedis",
        "port": 30143,
        "state": "active",
        "password": "49665a1710f3434d8be008aab50f38d2",
        "endpoint": "eu2-sought-mollusk-30143.upstash.io",
        "tls": True,
        "rest_token": "AXW_ASQgOTZh",
        "read_only_rest_token": "AnW_ASQgOTZh",
    }

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=documented)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    fresh = cloud_upstash.reset_default(http, "me@mentora.app", "key-1", "96ad0856")
    assert fresh == {
        "password": "49665a1710f3434d8be008aab50f38d2",
        "rest_token": "AXW_ASQgOTZh",
        "read_only_rest_token": "AnW_ASQgOTZh",
    }
    (request,) = seen
    assert (request.method, str(request.url)) == (
        "POST",
        "https://api.upstash.com/v2/redis/reset-password/96ad0856",
    )
    assert (
        request.headers["authorization"]
        == "Basic " + base64.b64encode(b"me@mentora.app:key-1").decode()
    )
    refused = httpx.Client(transport=httpx.MockTransport(lambda _r: httpx.Response(401)))
    with pytest.raises(cloud_upstash.ResetFailed, match="HTTP 401.*upstashApiKey"):
        cloud_upstash.reset_default(refused, "me@mentora.app", "wrong", "96ad0856")
