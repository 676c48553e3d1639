"""Supabase secret-key rotation against the Management API's published contract: the OpenAPI
spec in supabase/cli (packages/api/src/generated/openapi.json): v1-get-project-api-keys
(`GET /v1/projects/{ref}/api-keys`), v1-create-project-api-key (`POST ...?reveal=true`, body
CreateApiKeyBody: `type` in {publishable, secret} and `name` ^[a-z_][a-z0-9_]+$ (4-64) required,
`description` optional; 201 ApiKeyResponse) and v1-delete-project-api-key
(`DELETE /v1/projects/{ref}/api-keys/{id}`) and v1-update-project-legacy-api-keys
(`PUT /v1/projects/{ref}/api-keys/legacy?enabled=...`, `enabled` a required query parameter).
The fake refuses anything else."""

from __future__ import annotations

import httpx
import pytest

from components.cloud.supabase_http import SupabaseHttp
from rotation.cloud_supabase import SecretKeys
from tests.unit.rotation.cloud_fakes import REF
from tests.unit.rotation.provider_fakes import BASE
from tests.unit.rotation.provider_fakes import SupabaseKeysApi as Api


@pytest.fixture
def legacy_and_a() -> list[dict[str, str]]:
    return [
        {"id": "legacy-1", "name": "service_role", "type": "legacy"},
        {"id": "a-1", "name": "mentora_app_a", "type": "secret"},
    ]


def test_the_other_name_is_made_then_the_old_deleted(legacy_and_a: list[dict[str, str]]) -> None:
    api = Api(legacy_and_a)
    keys = SecretKeys(SupabaseHttp("sbp_token", transport=httpx.MockTransport(api)), REF)
    new = keys.begin("a-1")
    assert (new.name, new.api_key.startswith("sb_secret_")) == ("mentora_app_b", True)
    keys.delete("a-1")
    assert api.calls == [f"GET {BASE}", f"POST {BASE}", f"DELETE {BASE}/a-1"]
    assert [k["name"] for k in api.keys] == ["service_role", "mentora_app_b"]


def test_a_leftover_of_an_interrupted_rotation_is_removed_first(
    legacy_and_a: list[dict[str, str]],
) -> None:
    leftover = {"id": "b-old", "name": "mentora_app_b", "type": "secret"}
    api = Api([*legacy_and_a, leftover])
    keys = SecretKeys(SupabaseHttp("sbp_token", transport=httpx.MockTransport(api)), REF)
    keys.begin("a-1")
    assert api.calls[:2] == [f"GET {BASE}", f"DELETE {BASE}/b-old"]
    assert sorted(k["id"] for k in api.keys if k["type"] == "secret")[0] == "a-1"
