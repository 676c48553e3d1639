"""Syncing the deployed app with Inngest Cloud (issue 20, item 2): Inngest Cloud runs nothing
for an app that was never synced.

Sources: Inngest's "Syncing an Inngest App" (inngest.com/docs/apps/cloud, "Curl command"):
`curl -X PUT https://<your-app>.com/api/inngest` after the code is live. The SDK's handler of
that PUT (inngest Python SDK, installed: `_internal/comm_lib/handler.py` `put` ->
`Syncer.out_of_band`) accepts it unsigned, registers the app's functions with
`POST {api}/fn/register` signed with the signing key, and answers Inngest's JSON object, with
header `X-Inngest-Sync-Kind: out_of_band`; a refused registration answers `{"error": ...}`
(`_parse_out_of_band_response`, `CommResponse.from_error`).
"""

from __future__ import annotations

import httpx
import pytest

from smoke.clients import jobs_api

APP = "https://mentora-abc123.vercel.app"


def app_answering(response: httpx.Response, seen: list[httpx.Request]) -> httpx.Client:
    def app(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response

    return httpx.Client(transport=httpx.MockTransport(app))


def test_sync_puts_to_the_serve_endpoint_and_reads_the_outcome() -> None:
    seen: list[httpx.Request] = []
    ok = httpx.Response(
        200, json={"ok": True, "modified": True}, headers={"X-Inngest-Sync-Kind": "out_of_band"}
    )
    with app_answering(ok, seen) as client:
        assert jobs_api.sync_app(client, APP, 5) == {"ok": True, "modified": True}
    (request,) = seen
    assert request.method == "PUT" and str(request.url) == f"{APP}/api/inngest"
    assert "authorization" not in request.headers  # unsigned: the app signs its own register


@pytest.mark.parametrize(
    ("response", "said"),
    [
        (httpx.Response(200, json={"error": "Invalid signing key"}), "Invalid signing key"),
        (httpx.Response(500, json={"message": "register failed"}), "500"),
        (httpx.Response(401, json={"error": "unauthorized"}), "401"),
        (httpx.Response(200, text="<html>"), "not JSON"),
    ],
)
def test_a_refused_sync_names_the_app_and_what_inngest_said(
    response: httpx.Response, said: str
) -> None:
    with app_answering(response, []) as client, pytest.raises(jobs_api.JobsError) as caught:
        jobs_api.sync_app(client, APP, 5)
    message = str(caught.value)
    assert said in message and f"{APP}/api/inngest" in message
    assert "INNGEST_SIGNING_KEY" in message  # the usual cause, named with the fix


def test_an_unreachable_app_is_named() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    refused = pytest.raises(jobs_api.JobsError, match="did not answer")
    with httpx.Client(transport=httpx.MockTransport(down)) as client, refused:
        jobs_api.sync_app(client, APP, 5)
