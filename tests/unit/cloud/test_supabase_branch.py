"""Supabase Branching (a review stack's database) against the Management API's published contract.

Source of every shape below: the OpenAPI spec in supabase/cli
`packages/api/src/generated/openapi.json` (commit 1d1e7191268e, 2026-06-01): operations
v1-create-a-branch (CreateBranchBody -> 201 BranchResponse), v1-get-a-branch (BranchResponse,
`status` enum), v1-get-a-branch-config (BranchDetailResponse: db_host, db_port, db_user,
db_pass), v1-delete-a-branch (BranchDeleteResponse {message: ok}), v1-list-action-runs
(ListActionRunResponse) and v1-get-action-run-logs (text/plain); the log line format is the
Supabase CLI's own (supabase/cli apps/cli-go/pkg/migration/apply.go: "Applying migration %s...").
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from components.cloud.errors import SupabaseBranchError, SupabaseError
from components.cloud.supabase_branch import SupabaseBranchProvider
from components.cloud.supabase_branch_api import SupabaseBranchClient
from tests.unit.cloud.fake_supabase import (
    KEYS,
    POOLER,
    POOLER_HOST,
    TOKEN,
    FakeApi,
    FakeClock,
    reply,
)

PARENT = "parentrefparentrefab"  # the dev project (20 lower-case letters, like every ref)
BRANCH_REF = "branchrefbranchrefab"
NAME = "pr-42"
GIT_BRANCH = "feat/login"
DB_PASS = "branch-db-Pa55word"
# CreateBranchBody's properties and required keys (v1-create-a-branch).
CREATE_BODY_PROPERTIES = {
    "branch_name",
    "git_branch",
    "is_default",
    "persistent",
    "region",
    "desired_instance_size",
    "release_channel",
    "postgres_engine",
    "secrets",
    "with_data",
    "notify_url",
}
# BranchResponse.status enum (v1-get-a-branch).
BRANCH_STATUSES = {
    "CREATING_PROJECT",
    "RUNNING_MIGRATIONS",
    "MIGRATIONS_PASSED",
    "MIGRATIONS_FAILED",
    "FUNCTIONS_DEPLOYED",
    "FUNCTIONS_FAILED",
}
BRANCHES = f"/v1/projects/{PARENT}/branches"
ACTIONS = f"/v1/projects/{BRANCH_REF}/actions"
LOGS = """Pulling images...
Applying migration 20251020100000_schema.sql...
Applying migration 20251101120000_add_lessons.sql...
ERROR: relation "public.courses" does not exist (SQLSTATE 42P01)
At statement 0: alter table public.courses add column x int
"""


def branch(status: str) -> httpx.Response:
    """A BranchResponse with every required property."""
    assert status in BRANCH_STATUSES
    return reply(
        200 if status != "CREATING_PROJECT" else 201,
        {
            "id": "7c8a0d2e-0000-4000-8000-000000000042",
            "name": NAME,
            "project_ref": BRANCH_REF,
            "parent_project_ref": PARENT,
            "is_default": False,
            "git_branch": GIT_BRANCH,
            "persistent": False,
            "status": status,
            "created_at": "2026-12-04T23:00:00Z",
            "updated_at": "2026-12-04T23:01:00Z",
            "with_data": False,
        },
    )


def branch_config() -> httpx.Response:
    """A BranchDetailResponse (v1-get-a-branch-config)."""
    return reply(
        200,
        {
            "ref": BRANCH_REF,
            "postgres_version": "17.6.1.029",
            "postgres_engine": "17",
            "release_channel": "ga",
            "status": "ACTIVE_HEALTHY",
            "db_host": f"db.{BRANCH_REF}.supabase.co",
            "db_port": 5432,
            "db_user": "postgres",
            "db_pass": DB_PASS,
            "jwt_secret": "jwt-secret-0123456789",
        },
    )


def action_runs() -> httpx.Response:
    """A ListActionRunResponse: an older passed run and the latest (failed) one."""
    step = {"created_at": "x", "updated_at": "x"}
    return reply(
        200,
        [
            {
                "id": "run_old",
                "branch_id": BRANCH_REF,
                "run_steps": [{**step, "name": "migrate", "status": "EXITED"}],
                "workdir": None,
                "check_run_id": None,
                "created_at": "2026-12-01T10:00:00Z",
                "updated_at": "2026-12-01T10:01:00Z",
            },
            {
                "id": "run_new",
                "branch_id": BRANCH_REF,
                "run_steps": [{**step, "name": "migrate", "status": "DEAD"}],
                "workdir": None,
                "check_run_id": None,
                "created_at": "2026-12-04T23:00:00Z",
                "updated_at": "2026-12-04T23:01:00Z",
            },
        ],
    )


def logs(text: str) -> httpx.Response:
    return httpx.Response(200, text=text, headers={"content-type": "text/plain"})


@pytest.fixture
def client(api: FakeApi, clock: FakeClock) -> SupabaseBranchClient:
    return SupabaseBranchClient(TOKEN, transport=api.transport(), sleep=clock.sleep, clock=clock)


def test_create_sends_a_create_branch_body(api: FakeApi, client: SupabaseBranchClient) -> None:
    api.on("POST", BRANCHES, branch("CREATING_PROJECT"))

    created = client.create_branch(PARENT, NAME, git_branch=GIT_BRANCH)

    body = api.body("POST", BRANCHES)
    assert set(body) <= CREATE_BODY_PROPERTIES and "branch_name" in body  # its one required key
    assert body == {"branch_name": NAME, "git_branch": GIT_BRANCH, "persistent": False}
    assert created["project_ref"] == BRANCH_REF
    assert api.calls("POST", BRANCHES)[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_create_is_not_retried_after_a_5xx(api: FakeApi, client: SupabaseBranchClient) -> None:
    # A 500 may have created the branch: retrying would ask for a second one of the same name.
    api.on("POST", BRANCHES, reply(500, {"message": "Failed to create database branch"}))

    with pytest.raises(SupabaseError, match="500"):
        client.create_branch(PARENT, NAME, git_branch=GIT_BRANCH)
    assert len(api.calls("POST", BRANCHES)) == 1


def test_wait_polls_until_the_migrations_passed(
    api: FakeApi, client: SupabaseBranchClient, clock: FakeClock
) -> None:
    api.on(
        "GET",
        f"{BRANCHES}/{NAME}",
        branch("CREATING_PROJECT"),
        branch("RUNNING_MIGRATIONS"),
        branch("MIGRATIONS_PASSED"),
    )

    got = client.wait_migrated(PARENT, NAME, deadline_s=900, poll_s=10)

    assert got["status"] == "MIGRATIONS_PASSED"
    assert clock.sleeps == [10, 10]


def test_migrations_failed_names_the_failed_migration(
    api: FakeApi, client: SupabaseBranchClient
) -> None:
    # The complaint: branches stop at MIGRATIONS_FAILED with little said about which.
    api.on("GET", f"{BRANCHES}/{NAME}", branch("RUNNING_MIGRATIONS"), branch("MIGRATIONS_FAILED"))
    api.on("GET", ACTIONS, action_runs())
    api.on("GET", f"{ACTIONS}/run_new/logs", logs(LOGS))

    with pytest.raises(SupabaseBranchError) as caught:
        client.wait_migrated(PARENT, NAME, deadline_s=900, poll_s=1)

    assert caught.value.migration == "20251101120000_add_lessons.sql"
    message = str(caught.value)
    assert "MIGRATIONS_FAILED" in message
    assert "migration 20251101120000_add_lessons.sql failed" in message
    assert 'relation "public.courses" does not exist' in message
    assert api.calls("GET", f"{ACTIONS}/run_old/logs") == []  # the latest run's logs


def test_migrations_failed_is_still_reported_when_the_logs_cannot_be_read(
    api: FakeApi, client: SupabaseBranchClient
) -> None:
    api.on("GET", f"{BRANCHES}/{NAME}", branch("MIGRATIONS_FAILED"))
    api.on("GET", ACTIONS, reply(403, {"message": "Forbidden action"}))

    with pytest.raises(SupabaseBranchError, match="a migration failed .*could not be read"):
        client.wait_migrated(PARENT, NAME, deadline_s=900, poll_s=1)


def test_the_wait_is_bounded(api: FakeApi, client: SupabaseBranchClient, clock: FakeClock) -> None:
    api.on("GET", f"{BRANCHES}/{NAME}", branch("RUNNING_MIGRATIONS"))

    with pytest.raises(SupabaseBranchError, match="had not passed within 60s"):
        client.wait_migrated(PARENT, NAME, deadline_s=60, poll_s=10)
    assert clock.now <= 60


def test_delete_uses_the_branch_ref_and_accepts_a_missing_branch(
    api: FakeApi, client: SupabaseBranchClient
) -> None:
    api.on("DELETE", f"/v1/branches/{BRANCH_REF}", reply(200, {"message": "ok"}))
    assert client.delete_branch(BRANCH_REF) is True
    api.on("DELETE", f"/v1/branches/{BRANCH_REF}", reply(404, {"message": "Branch not found"}))
    assert client.delete_branch(BRANCH_REF) is False


def provider(api: FakeApi) -> SupabaseBranchProvider:
    return SupabaseBranchProvider(api.transport, wait_deadline_s=60, poll_s=0)


INPUTS: dict[str, Any] = {
    "parent_ref": PARENT,
    "branch_name": NAME,
    "git_branch": GIT_BRANCH,
    "access_token": TOKEN,
}


def ready(api: FakeApi) -> FakeApi:
    api.on("POST", BRANCHES, branch("CREATING_PROJECT"))
    api.on("GET", f"{BRANCHES}/{NAME}", branch("RUNNING_MIGRATIONS"), branch("MIGRATIONS_PASSED"))
    api.on("GET", f"/v1/branches/{BRANCH_REF}", branch_config())
    api.on("GET", f"/v1/projects/{BRANCH_REF}/config/database/pooler", reply(200, POOLER))
    api.on("GET", f"/v1/projects/{BRANCH_REF}/api-keys", reply(200, KEYS))
    api.on("DELETE", f"/v1/branches/{BRANCH_REF}", reply(200, {"message": "ok"}))
    return api


def test_create_reads_the_branch_connection_config(api: FakeApi) -> None:
    result = provider(ready(api)).create(INPUTS)

    assert result.id == BRANCH_REF
    outs = result.outs
    assert outs["url"] == f"https://{BRANCH_REF}.supabase.co"
    # The pooler host comes from the API (never built); the password from BranchDetailResponse.
    assert outs["database_url"].startswith("postgresql://")
    assert POOLER_HOST in outs["database_url"] and ":6543/" in outs["database_url"]
    assert DB_PASS in outs["migrations_url"] and ":5432/" in outs["migrations_url"]
    assert outs["anon_key"].startswith("sb_publishable_")
    assert outs["status"] == "MIGRATIONS_PASSED"
    assert api.calls("DELETE", f"/v1/branches/{BRANCH_REF}") == []


def test_a_failed_create_deletes_the_branch_and_names_the_migration(api: FakeApi) -> None:
    ready(api).on("GET", f"{BRANCHES}/{NAME}", branch("MIGRATIONS_FAILED"))
    api.on("GET", ACTIONS, action_runs())
    api.on("GET", f"{ACTIONS}/run_new/logs", logs(LOGS))

    with pytest.raises(SupabaseBranchError) as caught:
        provider(api).create(INPUTS)

    assert "20251101120000_add_lessons.sql" in str(caught.value)
    assert f"branch {BRANCH_REF} was deleted again" in str(caught.value)
    assert len(api.calls("DELETE", f"/v1/branches/{BRANCH_REF}")) == 1
    assert TOKEN not in str(caught.value)


def test_delete_and_refresh_of_a_branch_already_gone(api: FakeApi) -> None:
    api.on("DELETE", f"/v1/branches/{BRANCH_REF}", reply(404, {"message": "not found"}))
    api.on("GET", f"/v1/branches/{BRANCH_REF}", reply(404, {"message": "not found"}))

    provider(api).delete(BRANCH_REF, INPUTS)  # `review down` of a half-removed stack: fine
    assert provider(api).read(BRANCH_REF, INPUTS).id == ""


def test_a_new_git_branch_replaces_and_a_new_token_updates(api: FakeApi) -> None:
    diff = provider(api).diff(BRANCH_REF, INPUTS, {**INPUTS, "git_branch": "other"})
    assert diff.replaces == ["git_branch"] and diff.delete_before_replace
    diff = provider(api).diff(BRANCH_REF, INPUTS, {**INPUTS, "access_token": "sbp_new"})
    assert diff.changes and not diff.replaces
    assert not provider(api).diff(BRANCH_REF, INPUTS, dict(INPUTS)).changes
