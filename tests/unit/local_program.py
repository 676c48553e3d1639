"""Runs the local program under Pulumi mocks: fake outputs for its dynamic resources, a recorder,
and the `mocks` fixture (registered in tests/unit/conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
import pytest

FAKE_OUTPUTS: dict[str, dict[str, Any]] = {
    "database-server": {
        "admin_url": "postgresql://mentora_admin:adminpw@127.0.0.1:54322/mentora",
        "app_url": "postgresql://mentora_app:apppw@127.0.0.1:54322/mentora",
        "running": True,
    },
    "database-migrations": {"applied": ["20251020100000"]},
    "cache-server": {"url": "redis://default:redispw@127.0.0.1:6390/0", "running": True},
    "storage-server": {
        "endpoint": "http://127.0.0.1:9090",
        "access_key_id": "AKIAFAKEFAKEFAKE",
        "secret_access_key": "s3secretfake",
        "tenant_admin_access_key_id": "AKIATENANTADMIN",
        "tenant_admin_secret_access_key": "tenantadminsecret",
        "running": True,
    },
    "app-env-file": {"keys": []},
    "app-process": {"url": "http://127.0.0.1:3100", "running": True},
    "jobs-server": {"url": "http://127.0.0.1:8288", "version": "1.0.0", "running": True},
    "errors-server": {
        "url": "http://127.0.0.1:9100",
        "dsn": "http://fakekey@127.0.0.1:9100/1",
        "api_token": "fake-bugsink-token",
        "admin_password": "fake-bugsink-admin",
        "project_id": "1",
        "running": True,
    },
    # A review stack's reference to its base `local` (a StackReference answers with `outputs`).
    "pr-5-base": {
        "outputs": {
            "review_base": {
                "postgres_admin_url": "postgresql://mentora_admin:adminpw@127.0.0.1:54322/postgres",
                "storage_endpoint": "http://127.0.0.1:9090",
                "storage_admin_key_id": "AKIATENANTADMIN",
                "storage_admin_secret": "tenantadminsecret",
                "errors_url": "http://127.0.0.1:9100",
                "errors_token": "fake-bugsink-token",
                "errors_admin_password": "fake-bugsink-admin",
            }
        }
    },
    "database-branch": {
        "database_admin_url": "postgresql://mentora_admin:adminpw@127.0.0.1:54322/mentora_pr_5",
        "app_url": "postgresql://mentora_app_pr_5:pw@127.0.0.1:54322/mentora_pr_5",
    },
    "errors-project": {"project_id": "7", "dsn": "http://pr5key@127.0.0.1:9100/7"},
    "storage-tenant": {"access_key_id": "AKIAPR5", "secret_access_key": "pr5secret"},
    "watch-server": {
        "log_file": "/srv/state/watch/watch.log",
        "metrics_url": "http://127.0.0.1:9464/metrics",
        "running": True,
    },
}


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers every resource with its inputs plus the fake outputs above, and records it."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        outputs = {**args.inputs, **FAKE_OUTPUTS.get(args.name, {})}
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


@pytest.fixture
def mocks(monkeypatch: pytest.MonkeyPatch) -> RecordingMocks:
    # The program's port preflight would probe this machine; under mocks every port is free.
    monkeypatch.setattr("components.local.preflight.port_open", lambda *a, **k: False)
    # Other tests' asyncio.run() leaves no current loop; Pulumi's test runtime needs one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    recorder = RecordingMocks()
    pulumi.runtime.set_mocks(
        recorder, project="mentora", stack="local", preview=False, organization="organization"
    )
    return recorder
