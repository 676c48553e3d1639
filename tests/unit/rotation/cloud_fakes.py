"""A cloud stack's Pulumi backend, IAM and Upstash, as the cloud rotations see them (shared by
test_cloud_storage*.py and test_cloud_cache.py)."""

from __future__ import annotations

import copy
import datetime
import json
import re
from pathlib import Path
from typing import Any

import httpx
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from redis.exceptions import AuthenticationError

from rotation import cloud_storage
from rotation.state import StackState, secret, unwrap

USER = "mentora-dev-app"
OLD, OLD_SECRET = "AKIAOLDOLDOLDOLD0001", "o" * 40
NEW, NEW_SECRET = "AKIANEWNEWNEWNEW0002", "n" * 40
KEY_URN = (
    "urn:pulumi:dev::mentora::mentora:infra:Storage$aws:iam/accessKey:AccessKey::storage-app-key"
)
ENV_URN = (
    "urn:pulumi:dev::mentora::vercel:index/projectEnvironmentVariable:"
    "ProjectEnvironmentVariable::env-S3_SECRET_ACCESS_KEY"
)


def exported(key_id: str, key_secret: str) -> dict[str, Any]:
    key = {
        "urn": KEY_URN,
        "type": cloud_storage.TYPE,
        "custom": True,
        "id": key_id,
        "inputs": {"user": USER},
        "outputs": {
            "id": key_id,
            "user": USER,
            "secret": secret(key_secret),
            "status": "Active",
            "sesSmtpPasswordV4": secret("derived-from-the-secret"),
        },
    }
    env = {
        "urn": ENV_URN,
        "type": "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable",
        "inputs": {"key": "S3_SECRET_ACCESS_KEY", "value": secret(key_secret)},
        "outputs": {"key": "S3_SECRET_ACCESS_KEY", "value": secret(key_secret)},
    }
    resources = [key, env, *cache_resources(), *supabase_resources()]
    return {"version": 3, "deployment": {"resources": resources}}


LEGACY_JWT = "eyJhbGciOiJIUzI1NiJ9.service_role.c2ln"
PROJECT_URL = "https://abcdefghijklmnopqrst.supabase.co"
POOLER_URL = (
    "postgresql://postgres.abcdefghijklmnopqrst:fakeDbPassword0123456789@"
    "aws-0-us-east-1.pooler.supabase.com:6543/postgres?sslmode=require"
)


def supabase_resources(anon_kind: str = "legacy") -> list[dict[str, Any]]:
    """The Supabase project and the server key the app holds (the legacy JWT), as exported."""
    prefix = (
        "urn:pulumi:dev::mentora::mentora:infra:SupabaseDatabase$pulumi-python:dynamic:Resource"
    )
    project = {
        "urn": f"{prefix}::database-project",
        "type": "pulumi-python:dynamic:Resource",
        "id": REF,
        "inputs": {"access_token": secret("sbp_token")},
        "outputs": {
            "ref": REF,
            "url": PROJECT_URL,
            "anon_key_kind": anon_kind,
            "database_url": secret(POOLER_URL),
        },
    }
    password = {
        "urn": "urn:pulumi:dev::mentora::mentora:infra:SupabaseDatabase$random:index/"
        "randomPassword:RandomPassword::database-password",
        "type": "random:index/randomPassword:RandomPassword",
        "id": "none",
        "outputs": {"result": secret("fakeDbPassword0123456789")},
    }
    key = {
        "urn": f"{prefix}::database-service-key",
        "type": "pulumi-python:dynamic:Resource",
        "id": "service-key-1",
        "outputs": {"scope": REF, "name": "legacy", "secret": secret(LEGACY_JWT), "extra": ""},
    }
    login = {
        "urn": f"{prefix}::database-app-login",
        "type": "pulumi-python:dynamic:Resource",
        "id": "login-2",
        "outputs": {"scope": REF, "name": "postgres", "secret": secret("fakeDbPassword0123456789")},
    }
    return [project, key, password, login]


DEFAULT_PW = "default-password-0"
ENDPOINT, PORT, DATABASE_ID = "fake-cache.upstash.io", 6379, "96ad0856-03b1-4ee7"


def cache_resources() -> list[dict[str, Any]]:
    """The cache's database, its provider and the app's login (`default`), as exported."""
    login = {
        "urn": "urn:pulumi:dev::mentora::mentora:infra:UpstashCache$pulumi-python:dynamic:"
        "Resource::cache-app-login",
        "type": "pulumi-python:dynamic:Resource",
        "id": "login-1",
        "inputs": {"scope": DATABASE_ID, "name": "default", "secret": secret(DEFAULT_PW)},
        "outputs": {
            "scope": DATABASE_ID,
            "name": "default",
            "secret": secret(DEFAULT_PW),
            "extra": secret("rest-default"),
        },
    }
    database = {
        "urn": "urn:pulumi:dev::mentora::mentora:infra:UpstashCache$upstash:index/"
        "redisDatabase:RedisDatabase::cache-database",
        "type": "upstash:index/redisDatabase:RedisDatabase",
        "id": DATABASE_ID,
        "outputs": {
            "databaseId": DATABASE_ID,
            "endpoint": ENDPOINT,
            "port": PORT,
            "password": secret(DEFAULT_PW),
            "restToken": secret("rest-default"),
        },
    }
    provider = {
        "urn": "urn:pulumi:dev::mentora::pulumi:providers:upstash::upstash",
        "type": "pulumi:providers:upstash",
        "id": "provider-1",
        "inputs": {"email": "platform@mentora.app", "apiKey": secret("upstash-api-key")},
    }
    return [login, database, provider]


class Backend:
    """Pulumi's backend for one stack: what `stack export` reads and `stack import` writes."""

    def __init__(self, key_id: str, key_secret: str) -> None:
        self.document = exported(key_id, key_secret)
        self.saves = 0
        self.killed_after_save = False
        """The process dies right after `pulumi stack import` wrote the state."""

    def state(self, stack: str, root: Path) -> StackState:
        backend = self

        class Stored(StackState):
            def load(self) -> StackState:
                self.document = copy.deepcopy(backend.document)
                return self

            def save(self) -> None:
                backend.document, backend.saves = copy.deepcopy(self.document), backend.saves + 1
                if backend.killed_after_save:
                    raise SystemExit("killed")

        return Stored(stack, root)

    def key(self) -> tuple[str, str]:
        resource = self.document["deployment"]["resources"][0]
        return resource["id"], unwrap(resource["outputs"]["secret"])

    def by_type(self, typ: str) -> dict[str, Any]:
        return next(r for r in self.document["deployment"]["resources"] if r["type"] == typ)

    def by_urn(self, suffix: str) -> dict[str, Any]:
        return next(
            r for r in self.document["deployment"]["resources"] if r["urn"].endswith(suffix)
        )

    def server_key(self) -> tuple[str, str]:
        outputs = unwrap(self.by_urn("-service-key")["outputs"])
        return str(outputs["name"]), str(outputs["secret"])

    def login(self) -> tuple[str, str]:
        outputs = unwrap(self.by_urn("-app-login")["outputs"])
        return str(outputs["name"]), str(outputs["secret"])

    def env_value(self) -> str:
        return str(unwrap(self.document["deployment"]["resources"][1]["outputs"]["value"]))


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


REF = "abcdefghijklmnopqrst"
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
