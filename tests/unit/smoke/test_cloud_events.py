"""Signing and test events for Inngest and Sentry, against httpx.MockTransport."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from smoke.cloud_events import (
    inngest_signature,
    send_inngest_event,
    send_sentry_event,
    sentry_envelope,
)


def test_inngest_signature_is_hmac_of_body_and_timestamp_with_the_bare_key() -> None:
    header = inngest_signature(b'{"a":1}', "signkey-prod-0123abcd", timestamp=1700000000)
    expected = hmac.new(b"0123abcd", b'{"a":1}1700000000', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000&s={expected}"
    assert inngest_signature(b"", "signkey-test-0123abcd", 5) == inngest_signature(
        b"", "0123abcd", 5
    )
    assert inngest_signature(b"", "0123abcd", 5) != inngest_signature(b"", "0123abce", 5)


def test_inngest_event_goes_to_the_event_api_with_the_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ids": ["01H"], "status": 200})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        response = send_inngest_event(client, "evt_key123", "run42")
    assert response.status_code == 200
    assert str(seen[0].url) == "https://inn.gs/e/evt_key123"
    body = json.loads(seen[0].content)
    assert body["name"] == "mentora/smoke.test" and body["data"]["run_id"] == "run42"


def test_sentry_envelope_targets_the_dsn_project() -> None:
    url, body, headers = sentry_envelope("https://pubkey@o1.ingest.sentry.io/4242", "run7")
    assert url == "https://o1.ingest.sentry.io/api/4242/envelope/"
    assert "sentry_key=pubkey" in headers["X-Sentry-Auth"]
    header, item, event = (json.loads(line) for line in body.decode().splitlines())
    assert header["event_id"] == event["event_id"] and item == {"type": "event"}
    assert event["tags"] == {"smoke_run": "run7"}


def test_sentry_event_is_posted() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "x"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert send_sentry_event(client, "https://k@sentry.example/7", "r").status_code == 200
    assert seen[0].url.path == "/api/7/envelope/"


@pytest.mark.parametrize("dsn", ["not a dsn", "https://o1.ingest.sentry.io/42", "https://k@host/"])
def test_malformed_dsn_is_named(dsn: str) -> None:
    with pytest.raises(ValueError, match="SENTRY_DSN"):
        sentry_envelope(dsn, "r")
