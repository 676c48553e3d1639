"""A cloud stack's Pulumi backend, as the cloud rotations see it: what `pulumi stack export`
reads and `stack import` writes (shared by the test_cloud_*.py rotation tests; the providers'
fakes are in provider_fakes.py)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

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


REF = "abcdefghijklmnopqrst"
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

    def __init__(self, key_id: str, key_secret: str, document: dict[str, Any] | None = None):
        self.document = document if document is not None else exported(key_id, key_secret)
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
