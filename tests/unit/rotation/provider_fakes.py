"""The providers as the cloud rotations see them: IAM (two keys per user, eventually
consistent), Upstash (its documented ACL rules and reset-password) and the Supabase Management
API's key operations (supabase/cli's openapi.json, named in test_cloud_supabase.py)."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import httpx
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from redis.exceptions import AuthenticationError

from tests.unit.rotation.cloud_fakes import OLD, OLD_SECRET, REF, USER


class Iam:
    """IAM as the rotation sees it: a user's keys, at most two, each Active or Inactive."""

    def __init__(self) -> None:
        old = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=90)
        self.keys: dict[str, dict[str, Any]] = {
            OLD: {"secret": OLD_SECRET, "Status": "Active", "CreateDate": old}
        }
        self.made = 0

    def list_access_keys(self, UserName: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        assert UserName == USER
        return {
            "AccessKeyMetadata": [
                {
                    "UserName": USER,
                    "AccessKeyId": k,
                    "Status": v["Status"],
                    "CreateDate": v["CreateDate"],
                }
                for k, v in self.keys.items()
            ]
        }

    def create_access_key(self, UserName: str) -> dict[str, Any]:  # noqa: N803
        assert UserName == USER and len(self.keys) < 2, "IAM allows two keys per user"
        self.made += 1
        # Ids share their first 8 characters: whole ids must be compared, never a shown prefix.
        key_id, key_secret = f"AKIAMADE{self.made:012d}", f"{self.made}" * 40
        self.keys[key_id] = {
            "secret": key_secret,
            "Status": "Active",
            "CreateDate": datetime.datetime.now(datetime.UTC),
        }
        return {
            "AccessKey": {
                "UserName": USER,
                "AccessKeyId": key_id,
                "SecretAccessKey": key_secret,
                "Status": "Active",
            }
        }

    def update_access_key(self, UserName: str, AccessKeyId: str, Status: str) -> None:  # noqa: N803
        self.keys[AccessKeyId]["Status"] = Status

    def delete_access_key(self, UserName: str, AccessKeyId: str) -> None:  # noqa: N803
        del self.keys[AccessKeyId]

    def works(self, key_id: str, key_secret: str) -> bool:
        key = self.keys.get(key_id)
        return key is not None and key["Status"] == "Active" and key["secret"] == key_secret

    def sts_for(self, key_id: str, key_secret: str) -> Any:
        iam = self

        class Sts:
            def get_caller_identity(self) -> dict[str, str]:
                if not iam.works(key_id, key_secret):
                    raise ClientError(
                        {"Error": {"Code": "InvalidClientTokenId"}}, "GetCallerIdentity"
                    )
                return {"Account": "123456789012"}

        return Sts()


class Upstash:
    """ACL as Upstash documents it, over an in-memory user table."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.users = users or {"default": "default-pw", "mentora_a": "tok-mentora_a-1"}
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
        if sub == "USERS":
            return [u.encode() for u in self.users]
        if sub == "DELUSER":
            if args[2] == "default":
                raise RuntimeError("ERR the default user cannot be removed")
            self.users.pop(args[2], None)
            return 1
        raise AssertionError(f"not an Upstash ACL command: {args}")

    def client(self, user: str, password: str) -> Any:
        """A connection as `user`: every command is refused once the user or password is gone
        (Upstash applies ACL changes to existing connections at once)."""
        server = self

        class Session:
            def ping(self) -> bool:
                self._auth()
                return True

            def execute_command(self, *args: Any) -> Any:
                self._auth()
                return server.execute_command(*args)

            def acl_users(self) -> list[str]:  # redis-py decodes ACL USERS' names
                return [u.decode() for u in self.execute_command("ACL", "USERS")]

            def _auth(self) -> None:
                if server.users.get(user) != password:
                    raise AuthenticationError("WRONGPASS invalid username-password pair")

        return Session()

    def reset_default(self, email: str, api_key: str, database_id: str) -> dict[str, str]:
        """The Developer API's reset-password: a new `default` password and REST tokens."""
        assert (email, api_key) == ("platform@mentora.app", "upstash-api-key"), email
        self.users["default"] = f"reset-{len(self.commands)}"
        fresh = self.users["default"]
        return {"password": fresh, "rest_token": f"rest-{fresh}", "read_only_rest_token": "ro"}


BASE = f"/v1/projects/{REF}/api-keys"
NAME = re.compile(r"^[a-z_][a-z0-9_]+$")


class SupabaseKeysApi:
    """The Management API's key operations (test_cloud_supabase.py names the spec) over an
    in-memory key list, every request recorded; `accepts` is the project's Data API."""

    def __init__(self, keys: list[dict[str, str]]) -> None:
        self.keys, self.calls = keys, []
        self.legacy_enabled = True

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        path = request.url.path
        if request.method == "GET" and path == BASE:
            return httpx.Response(200, json=self.keys)
        if request.method == "POST" and path == BASE:
            body = json.loads(request.content)
            assert request.url.params.get("reveal") == "true"
            assert set(body) <= {"type", "name", "description", "secret_jwt_template"}
            assert body["type"] in ("publishable", "secret")
            assert NAME.match(body["name"]) and 4 <= len(body["name"]) <= 64
            key = {"id": f"id-{len(self.calls)}", "name": body["name"], "type": body["type"]}
            value = f"sb_secret_{body['name']}_{len(self.calls)}"
            self.keys.append({**key, "api_key": value})
            return httpx.Response(201, json={**key, "api_key": value})
        match = re.fullmatch(rf"{BASE}/([^/]+)", path)
        if request.method == "DELETE" and match:
            self.keys = [k for k in self.keys if k["id"] != match.group(1)]
            return httpx.Response(200, json={})
        if request.method == "PUT" and path == f"{BASE}/legacy":
            # v1-update-project-legacy-api-keys: `enabled` is a required query parameter.
            self.legacy_enabled = request.url.params["enabled"] == "true"
            return httpx.Response(200, json={"enabled": self.legacy_enabled})
        return httpx.Response(404, json={"message": "not in the spec"})

    def accepts(self, _url: str, key: str) -> bool:
        """The Data API: a live secret key, or a legacy JWT while legacy keys are enabled."""
        live = {k.get("api_key") for k in self.keys if k["type"] != "legacy"}
        legacy = {k.get("api_key") for k in self.keys if k["type"] == "legacy"}
        return key in live or (key in legacy and self.legacy_enabled)
