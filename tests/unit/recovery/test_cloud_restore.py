"""`restore <cloud stack> --to TIME`: bad input exits 2 before any request; a TIME outside the
PITR window is refused naming the window; only then the restore call (shapes: the contract test
tests/unit/cloud/test_supabase_backups_contract.py, source supabase/cli's OpenAPI spec)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from components.cloud.supabase_api import SupabaseClient
from recovery.cloud_restore import TOKEN_ENV, parse_time, run
from stacks.contract import StackOutputs, Target
from tests.unit.cloud.fake_supabase import REF, TOKEN, FakeApi, FakeClock, reply
from tests.unit.cloud.test_supabase_backups_contract import EARLIEST, LATEST, backups_answer

LIST = f"/v1/projects/{REF}/database/backups"
RESTORE = f"{LIST}/restore-pitr"
URL = f"https://{REF}.supabase.co"
INSIDE = datetime.fromtimestamp((EARLIEST + LATEST) // 2, UTC)


def outputs(stack: str = "prod", target: Target = Target.CLOUD) -> StackOutputs:
    return StackOutputs(
        target=target,
        database_url="postgresql://postgres.x:pw@pooler:6543/postgres",
        redis_url="rediss://default:pw@r:6379",
        bucket_name="videos",
        storage_endpoint="",
        storage_region="eu-central-1",
        stack=stack,
    )


@pytest.fixture
def restore(api: FakeApi, clock: FakeClock) -> Any:
    def call(stack: str = "prod", to: datetime = INSIDE, **kwargs: Any) -> Any:
        def client(token: str) -> SupabaseClient:
            return SupabaseClient(token, transport=api.transport(), sleep=clock.sleep, clock=clock)

        kwargs.setdefault("env", {TOKEN_ENV: TOKEN})
        return run(stack, to, kwargs.pop("outputs", outputs(stack)), URL, client=client, **kwargs)

    return call


def test_prod_without_the_flag_is_refused_before_any_request(api: FakeApi, restore: Any) -> None:
    outcome = restore()
    assert outcome.code == 2 and "--really-restore-prod" in outcome.message
    assert api.requests == []


def test_a_time_outside_the_window_is_refused_naming_the_window(api: FakeApi, restore: Any) -> None:
    api.on("GET", LIST, reply(200, backups_answer()))
    too_old = datetime.fromtimestamp(EARLIEST - 60, UTC)
    outcome = restore(to=too_old, really_restore_prod=True)
    assert outcome.code == 2
    window = f"{datetime.fromtimestamp(EARLIEST, UTC).isoformat()} .. "
    assert "outside the PITR window" in outcome.message and window in outcome.message
    assert api.calls("POST", RESTORE) == []


def test_a_time_inside_the_window_starts_the_restore(api: FakeApi, restore: Any) -> None:
    api.on("GET", LIST, reply(200, backups_answer()))
    api.on("POST", RESTORE, reply(201))
    outcome = restore(really_restore_prod=True)
    assert outcome.code == 0 and "started" in outcome.message
    assert api.body("POST", RESTORE) == {"recovery_time_target_unix": int(INSIDE.timestamp())}


def test_a_project_without_pitr_is_refused(api: FakeApi, restore: Any) -> None:
    api.on("GET", LIST, reply(200, backups_answer(pitr_enabled=False)))
    outcome = restore(stack="dev")
    assert outcome.code == 2 and "mentora:supabasePitrDays" in outcome.message
    assert api.calls("POST", RESTORE) == []


def test_no_token_names_the_variable_and_sends_nothing(api: FakeApi, restore: Any) -> None:
    outcome = restore(stack="dev", env={})
    assert outcome.code == 2 and TOKEN_ENV in outcome.message and api.requests == []


def test_a_local_stack_is_not_restored_here(api: FakeApi, restore: Any) -> None:
    outcome = restore(stack="local", outputs=outputs("local", Target.LOCAL))
    assert outcome.code == 2 and api.requests == []


def test_an_api_failure_exits_1_without_the_token(api: FakeApi, restore: Any) -> None:
    api.on("GET", LIST, reply(403, {"message": f"denied for {TOKEN}"}))
    outcome = restore(stack="dev")
    assert outcome.code == 1 and "403" in outcome.message and TOKEN not in outcome.message


def test_times_parse_with_a_zone_or_as_unix_seconds() -> None:
    assert parse_time("2026-12-04T22:00:00Z") == datetime(2026, 12, 4, 22, tzinfo=UTC)
    assert parse_time(str(EARLIEST)).timestamp() == EARLIEST
    with pytest.raises(ValueError, match="no zone"):
        parse_time("2026-12-04T22:00:00")
