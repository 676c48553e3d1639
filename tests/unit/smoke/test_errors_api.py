"""Triggering the test error and finding it by id, against the trackers' published APIs (fakes).

Sentry: `GET /api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/events/{event_id}/`,
bearer token of scope project:read (smoke's SENTRY_READ_TOKEN), 200 with `eventID` / 404
(docs.sentry.io/api/events/retrieve-an-event-for-a-project/). Bugsink 2.6.2:
`GET /api/canonical/0/events/lookup/?project=<id>&event_id=<uuid>`, bearer token, 200 with
`event_id` (dashed UUID) / 404 (events/api_views.py `lookup_by_event_id`).
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from smoke.clients import errors_api
from smoke.clients.errors_api import ErrorsConfigError, ErrorsError, TrackerTarget

EVENT_ID = "ce51f60fb0714b75853ffa18cde09922"
DASHED = "ce51f60f-b071-4b75-853f-fa18cde09922"
SENTRY = TrackerTarget.from_env(
    {"SENTRY_READ_TOKEN": "sntrys_tok", "SENTRY_ORG": "acme", "SENTRY_PROJECT": "mentora-web"}
)
BUGSINK = TrackerTarget.from_env(
    {
        "SENTRY_AUTH_TOKEN": "b" * 40,
        "SENTRY_API_URL": "http://127.0.0.1:9000/",
        "SENTRY_PROJECT": "7",
    }  # fmt: skip
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def client_for(answers: list[httpx.Response], seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1]

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_sentry_event_is_polled_by_id_with_the_token() -> None:
    seen: list[httpx.Request] = []
    answers = [
        httpx.Response(404, json={"detail": "Event not found"}),
        httpx.Response(200, json={"id": "1", "eventID": EVENT_ID, "title": "x"}),
    ]
    with client_for(answers, seen) as client:
        event, polls = errors_api.wait_for_event(client, SENTRY, EVENT_ID, 5, poll_s=0)
    assert (event["eventID"], polls) == (EVENT_ID, 2)
    assert str(seen[0].url) == (
        f"https://sentry.io/api/0/projects/acme/mentora-web/events/{EVENT_ID}/"
    )
    assert seen[0].method == "GET" and seen[0].headers["Authorization"] == "Bearer sntrys_tok"


def test_bugsink_lookup_by_project_and_event_id() -> None:
    seen: list[httpx.Request] = []
    with client_for([httpx.Response(200, json={"event_id": DASHED})], seen) as client:
        event, _ = errors_api.wait_for_event(client, BUGSINK, EVENT_ID, 5)
    assert seen[0].url.path == "/api/canonical/0/events/lookup/"
    assert dict(seen[0].url.params) == {"project": "7", "event_id": EVENT_ID}
    assert errors_api.stored_id(event) == EVENT_ID


def test_refused_token_and_missed_deadline_are_named() -> None:
    refused = pytest.raises(ErrorsError, match="refused the token \\(403\\).*SENTRY_READ_TOKEN")
    with client_for([httpx.Response(403, json={})], []) as client, refused:
        errors_api.wait_for_event(client, SENTRY, EVENT_ID, 5)
    clock = FakeClock()
    with client_for([httpx.Response(404, json={})], []) as client, pytest.raises(ErrorsError) as e:
        errors_api.wait_for_event(client, BUGSINK, EVENT_ID, 2, 0.5, clock, clock.sleep)
    assert f"event {EVENT_ID} did not arrive in Bugsink (project 7) within 2s" in str(e.value)


def test_a_different_event_is_not_taken_for_ours() -> None:
    other = httpx.Response(200, json={"eventID": "0" * 32})
    with client_for([other], []) as client, pytest.raises(ErrorsError, match="another event"):
        errors_api.wait_for_event(client, SENTRY, EVENT_ID, 5)


def test_trigger_reads_the_event_id_or_names_the_apps_reason() -> None:
    seen: list[httpx.Request] = []
    with client_for([httpx.Response(200, json={"event_id": EVENT_ID})], seen) as client:
        assert errors_api.trigger_test_error(client, "http://app", "smoke-r1") == EVENT_ID
    assert str(seen[0].url) == "http://app/api/test-sentry?tag=smoke-r1"
    off = httpx.Response(503, json={"error": "error tracking is off", "fix": "set SENTRY_DSN"})
    with client_for([off], []) as client, pytest.raises(ErrorsError) as err:
        errors_api.trigger_test_error(client, "http://app", "t")
    assert (
        str(err.value)
        == "errors: /api/test-sentry answered 503 without an event_id (set SENTRY_DSN)"
    )


def test_missing_settings_are_named() -> None:
    with pytest.raises(ErrorsConfigError, match="SENTRY_AUTH_TOKEN, SENTRY_PROJECT"):
        TrackerTarget.from_env({})
    assert "sntrys_tok" not in repr(SENTRY)
    assert (SENTRY.kind, BUGSINK.kind) == ("Sentry", "Bugsink")


def test_an_app_that_uses_its_whole_flush_still_answers_in_time() -> None:
    """The contract lets `/api/test-sentry` wait APP_FLUSH_S for a slow tracker before it answers
    (CI stop 27: a tracker just restarted took that long, and a client bounded by one call's
    timeout gave up with ReadTimeout while the app was keeping its contract)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class FlushingApp(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            time.sleep(errors_api.APP_FLUSH_S - 0.5)
            body = json.dumps({"event_id": EVENT_ID}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FlushingApp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with httpx.Client(timeout=0.5) as client:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            assert errors_api.trigger_test_error(client, url, "t", timeout_s=0.5) == EVENT_ID
    finally:
        server.shutdown()
