"""How the Data API smoke client sends each kind of Supabase key (issue 20, item 4).

Source: Supabase's API keys guide (https://supabase.com/docs/guides/api/api-keys): the new
`sb_publishable_...`/`sb_secret_...` keys go in the `apikey` header only; in `Authorization:
Bearer` the gateway rejects them because the value is not a JWT. Legacy `anon`/`service_role`
keys are JWTs and travel in both headers (what supabase-js sends).
"""

from __future__ import annotations

import httpx
import pytest

from smoke.clients import data_api

URL = "https://abcdefghijklmnopqrst.supabase.co"
LEGACY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl"


def sent_headers(key: str) -> httpx.Headers:
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    api = data_api.DataApi(URL, key, key, "dev")
    with httpx.Client(transport=httpx.MockTransport(gateway), timeout=1) as client:
        data_api.select(client, api, key, "students")
    return seen[0].headers


@pytest.mark.parametrize("key", ["sb_publishable_abc123", "sb_secret_abc123"])
def test_new_format_keys_go_as_apikey_only(key: str) -> None:
    headers = sent_headers(key)
    assert headers["apikey"] == key
    assert "authorization" not in headers


def test_legacy_jwt_keys_go_as_apikey_and_bearer() -> None:
    headers = sent_headers(LEGACY)
    assert headers["apikey"] == LEGACY
    assert headers["authorization"] == f"Bearer {LEGACY}"
