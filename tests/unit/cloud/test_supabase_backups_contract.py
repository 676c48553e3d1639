"""Backups and point-in-time recovery against the Management API's published contract.

Source: the OpenAPI spec in supabase/cli, `packages/api/src/generated/openapi.json` (commit
1d1e7191268e068fe9cb6aba524d1c619a9c727b), operations `v1-list-all-backups` and
`v1-restore-pitr-backup`; the operations and schemas used are kept unchanged in
`supabase_openapi_backups.json` beside this file, and every request body we send and every
answer we script is validated against them (jsonschema). The CLI's own use: supabase/cli
`apps/cli-go/internal/backups/{list,restore}` (restore expects 201) and its recorded e2e
fixture `GET_v1_projects___PROJECT_REF___database_backups/default.response.json`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from components.cloud.errors import SupabaseApiError, SupabaseError
from components.cloud.supabase_backups import BACKUP_STATUSES, list_backups, restore_pitr
from components.cloud.supabase_http import SupabaseHttp
from tests.unit.cloud.fake_supabase import REF, TOKEN, FakeApi, FakeClock, reply

SPEC = json.loads(Path(__file__).with_name("supabase_openapi_backups.json").read_text())
LIST = f"/v1/projects/{REF}/database/backups"
RESTORE = f"{LIST}/restore-pitr"
EARLIEST, LATEST = 1764800000, 1764889000


def schema(name: str) -> dict[str, Any]:
    return dict(SPEC["components"]["schemas"][name])


def operation(path: str, method: str) -> dict[str, Any]:
    return dict(SPEC["paths"][path][method])


def backups_answer(**changes: Any) -> dict[str, Any]:
    """A V1BackupsResponse of a PITR project, checked against the spec before use."""
    answer = {
        "region": "eu-central-1",
        "walg_enabled": True,
        "pitr_enabled": True,
        "backups": [
            {
                "id": 7,
                "is_physical_backup": True,
                "status": "COMPLETED",
                "inserted_at": "2026-12-04T03:00:00Z",
            }
        ],
        "physical_backup_data": {
            "earliest_physical_backup_date_unix": EARLIEST,
            "latest_physical_backup_date_unix": LATEST,
        },
        **changes,
    }
    jsonschema.validate(answer, schema("V1BackupsResponse"))
    return answer


@pytest.fixture
def http(api: FakeApi, clock: FakeClock) -> SupabaseHttp:
    return SupabaseHttp(TOKEN, transport=api.transport(), sleep=clock.sleep, clock=clock)


def test_the_spec_excerpt_is_the_operations_we_call() -> None:
    assert operation("/v1/projects/{ref}/database/backups", "get")["operationId"] == (
        "v1-list-all-backups"
    )
    restore = operation("/v1/projects/{ref}/database/backups/restore-pitr", "post")
    assert restore["operationId"] == "v1-restore-pitr-backup"
    assert "201" in restore["responses"]
    ref_param = restore["parameters"][0]["schema"]
    assert re.fullmatch(ref_param["pattern"], REF) and len(REF) == ref_param["minLength"]
    statuses = schema("V1BackupsResponse")["properties"]["backups"]["items"]["properties"]
    assert tuple(statuses["status"]["enum"]) == BACKUP_STATUSES


def test_listing_reads_the_pitr_window(api: FakeApi, http: SupabaseHttp) -> None:
    api.on("GET", LIST, reply(200, backups_answer()))
    backups = list_backups(http, REF)
    assert backups.pitr_window() == (EARLIEST, LATEST)
    assert backups.backups[0].physical and backups.backups[0].status == "COMPLETED"
    assert [(r.method, r.url.path) for r in api.requests] == [("GET", LIST)]


def test_the_cli_s_recorded_answer_has_no_window(api: FakeApi, http: SupabaseHttp) -> None:
    # supabase/cli's recorded e2e answer of a project without PITR: empty physical_backup_data.
    recorded = {
        "region": "us-east-1",
        "pitr_enabled": False,
        "walg_enabled": True,
        "backups": [],
        "physical_backup_data": {},
    }
    jsonschema.validate(recorded, schema("V1BackupsResponse"))
    api.on("GET", LIST, reply(200, recorded))
    assert list_backups(http, REF).pitr_window() is None


def test_an_answer_of_another_shape_is_an_error_naming_the_schema(
    api: FakeApi, http: SupabaseHttp
) -> None:
    wrong = {"region": "eu-central-1", "backups": "none"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, schema("V1BackupsResponse"))
    api.on("GET", LIST, reply(200, wrong))
    with pytest.raises(SupabaseError, match="V1BackupsResponse"):
        list_backups(http, REF)


def test_restore_sends_the_published_body_and_accepts_201(api: FakeApi, http: SupabaseHttp) -> None:
    api.on("POST", RESTORE, reply(201))
    restore_pitr(http, REF, 1764850000)
    body = api.body("POST", RESTORE)
    jsonschema.validate(body, schema("V1RestorePitrBody"))
    assert body == {"recovery_time_target_unix": 1764850000}
    assert api.calls("POST", RESTORE)[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_restore_that_reached_the_api_is_never_sent_twice(
    api: FakeApi, http: SupabaseHttp
) -> None:
    # A 500 may have started the restore: retrying could rewind the project a second time.
    api.on("POST", RESTORE, reply(500, {"message": "boom"}), reply(201))
    with pytest.raises(SupabaseApiError) as caught:
        restore_pitr(http, REF, 1764850000)
    assert caught.value.status == 500 and len(api.calls("POST", RESTORE)) == 1


def test_a_rate_limited_restore_is_retried(
    api: FakeApi, http: SupabaseHttp, clock: FakeClock
) -> None:
    api.on(
        "POST", RESTORE, reply(429, {"message": "slow down"}, **{"retry-after": "3"}), reply(201)
    )
    restore_pitr(http, REF, 1764850000)
    assert len(api.calls("POST", RESTORE)) == 2 and clock.sleeps == [3.0]
