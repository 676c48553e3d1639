"""The Data API checks against a fake PostgREST behind Supabase's API gateway (MockTransport).

The fake follows the published contract: the gateway answers an unknown `apikey` with 401
`{"message": "Invalid API key"}` (https://supabase.com/docs/guides/api/api-keys); PostgREST
answers `GET /rest/v1/<table>?select=id&limit=1` with a JSON array, and a refused privilege
(42501) with 401 for the anonymous role and `{"code": "42501", "message": "permission denied
for table <t>"}` (https://docs.postgrest.org/en/latest/references/errors.html); supabase-js
sends a legacy JWT key as `apikey` and as `Authorization: Bearer`, and the gateway rejects an
`sb_...` key in `Authorization: Bearer` (not a JWT), so those go as `apikey` alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from smoke.clients import data_api
from tests.unit.smoke.helpers import SMOKE_DIR, dead_outputs, free_port, run_smoke

URL = "https://abcdefghijklmnopqrst.supabase.co"
PUBLIC, SERVER = "sb_publishable_fake", "sb_secret_fake"
ENV = {
    "NEXT_PUBLIC_SUPABASE_URL": URL,
    "NEXT_PUBLIC_SUPABASE_ANON_KEY": PUBLIC,
    "SUPABASE_SERVICE_ROLE_KEY": SERVER,
}
DENIED = {"code": "42501", "details": None, "hint": None}


class FakeSupabase:
    """Gateway + PostgREST with this project's grants: anon holds no table privilege."""

    def __init__(self, **overrides: httpx.Response) -> None:
        self.overrides = overrides
        self.requests: list[httpx.Request] = []
        self.rows = {"students": [{"id": "s1"}], "achievements": [{"id": "a1"}]}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = request.headers.get("apikey")
        if (key or "").startswith("sb_") and "authorization" in request.headers:
            return httpx.Response(401, json={"message": "Invalid JWT: not a JWT"})
        assert request.url.params["select"] == "id" and request.url.params["limit"] == "1"
        table = request.url.path.removeprefix("/rest/v1/")
        role = {PUBLIC: "anon", SERVER: "service_role"}.get(key or "")
        if f"{role}_{table}" in self.overrides:
            return self.overrides[f"{role}_{table}"]
        if role is None:
            return httpx.Response(401, json={"message": "Invalid API key"})
        if table not in self.rows:
            return httpx.Response(404, json={"code": "42P01", "message": f"relation {table}"})
        if role == "anon":
            message = f"permission denied for table {table}"
            return httpx.Response(401, json={**DENIED, "message": message})
        return httpx.Response(200, json=self.rows[table])


def client_for(fake: FakeSupabase) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(fake), timeout=1)


API = data_api.DataApi(URL, PUBLIC, SERVER, "dev")
CHECKS = (
    data_api.check_public_key_sees_no_private_rows,
    data_api.check_server_key_reads,
    data_api.check_catalogue_as_policies_allow,
    data_api.check_unknown_key_refused,
)


@pytest.mark.parametrize("check", CHECKS)
def test_a_correct_project_passes_every_check(check: Any) -> None:
    fake = FakeSupabase()
    check(client_for(fake), API)
    assert all(r.url.host == "abcdefghijklmnopqrst.supabase.co" for r in fake.requests)


def test_rls_hiding_rows_with_200_and_no_rows_also_passes() -> None:
    fake = FakeSupabase(anon_students=httpx.Response(200, json=[]))
    data_api.check_public_key_sees_no_private_rows(client_for(fake), API)


def test_a_leak_to_the_public_key_names_the_table_and_the_policy_file() -> None:
    fake = FakeSupabase(anon_students=httpx.Response(200, json=[{"id": "s1"}]))
    with pytest.raises(data_api.DataApiError) as caught:
        data_api.check_public_key_sees_no_private_rows(client_for(fake), API)
    assert "data_api: the public key read 1 row(s) of students" in str(caught.value)
    assert data_api.RLS_FILE in str(caught.value)


def test_a_revoked_public_key_is_not_mistaken_for_a_refused_privilege() -> None:
    revoked = httpx.Response(401, json={"message": "Invalid API key"})
    with pytest.raises(data_api.DataApiError) as caught:
        data_api.check_public_key_sees_no_private_rows(
            client_for(FakeSupabase(anon_students=revoked)), API
        )
    message = str(caught.value)
    assert "with the public key answered 401 (Invalid API key)" in message
    assert "pulumi up --stack dev --refresh" in message and PUBLIC not in message


def test_a_missing_table_says_to_check_the_url_and_migrations() -> None:
    fake = FakeSupabase()
    fake.rows.pop("students")
    with pytest.raises(data_api.DataApiError, match="answered 404.*were the migrations applied"):
        data_api.check_server_key_reads(client_for(fake), API)


def test_an_empty_catalogue_names_the_seed_migration() -> None:
    fake = FakeSupabase()
    fake.rows["achievements"] = []
    with pytest.raises(data_api.DataApiError, match="seed_achievements.sql"):
        data_api.check_catalogue_as_policies_allow(client_for(fake), API)


def test_an_anon_readable_catalogue_fails() -> None:
    fake = FakeSupabase(anon_achievements=httpx.Response(200, json=[{"id": "a1"}]))
    with pytest.raises(data_api.DataApiError, match="anon must not read it"):
        data_api.check_catalogue_as_policies_allow(client_for(fake), API)


def test_a_gateway_that_accepts_any_key_fails() -> None:
    class Open(FakeSupabase):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=[])

    with pytest.raises(data_api.DataApiError, match="an unknown key answered 200; expected 401"):
        data_api.check_unknown_key_refused(client_for(Open()), API)


def test_no_answer_names_the_service_the_host_and_the_fix() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with pytest.raises(data_api.DataApiError) as caught:
        data_api.check_server_key_reads(httpx.Client(transport=httpx.MockTransport(refuse)), API)
    assert str(caught.value) == (
        "data_api: GET /rest/v1/students at abcdefghijklmnopqrst.supabase.co refused connection "
        "(is stack 'dev' up? run: pulumi up --stack dev --refresh)"
    )


def test_applicability_comes_from_the_env_output() -> None:
    assert data_api.data_api_of({}, "local") is None
    assert data_api.data_api_of(ENV, "dev") == API
    with pytest.raises(data_api.DataApiError, match="no SUPABASE_SERVICE_ROLE_KEY"):
        data_api.data_api_of({**ENV, "SUPABASE_SERVICE_ROLE_KEY": ""}, "dev")


def test_the_local_stack_skips_with_the_reason_never_passes(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dead_outputs(free_port(), free_port(), free_port())))
    result = run_smoke(
        tmp_path, SMOKE_DIR / "checks" / "data_api.py", "--outputs-file", outputs, "-rs"
    )
    # The summary row: 0 passed, 0 failed, 4 skipped; each skip prints the reason.
    assert re.search(r"^data_api\s+0\s+0\s+4\s", result.output, re.M), result.output
    assert result.output.count(data_api.NO_DATA_API) == 4
