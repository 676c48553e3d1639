"""Sending with the inngest SDK and following runs, against the published APIs (fakes).

Runs API: Inngest REST `GET https://api.inngest.com/v1/events/{event_id}/runs`, bearer = signing
key, answer `{"data": [{"run_id", "status", ...}], "metadata": {...}}` (inngest.com/docs/examples/
fetch-run-status-and-output; github.com/inngest/inngest v1.0.0 pkg/api/apiv1/events.go, statuses
pkg/enums/run_status.go). Event API: `POST https://inn.gs/e/{event key}` -> `{"ids": [...],
"status": 200}` (inngest.com/docs/events; github.com/inngest/inngest v1.0.0
pkg/coreapi/apiutil/apiutil.go `EventAPIResponse`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from smoke.clients import jobs_api
from smoke.clients.jobs_api import InngestTarget, JobsConfigError, JobsError

SIGNING_KEY = "signkey-prod-" + "ab" * 32
CLOUD = InngestTarget.from_env({"INNGEST_EVENT_KEY": "evtkey", "INNGEST_SIGNING_KEY": SIGNING_KEY})
DEV = InngestTarget.from_env({"INNGEST_DEV": "1", "INNGEST_BASE_URL": "http://127.0.0.1:8288/"})


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def runs_client(answers: list[list[dict[str, object]]], seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        data = answers[min(len(seen), len(answers)) - 1]
        return httpx.Response(200, json={"data": data, "metadata": {"fetched_at": "x"}})

    return httpx.Client(transport=httpx.MockTransport(handler))


def run(status: str, run_id: str = "01RUN") -> dict[str, object]:
    return {"run_id": run_id, "status": status, "function_id": "f-uuid", "event_id": "01EVT"}


def test_env_selects_the_mode_and_names_what_is_missing() -> None:
    assert CLOUD.api_base_url == "https://api.inngest.com" and not CLOUD.dev
    assert CLOUD.event_api_base_url == "https://inn.gs"
    assert DEV.dev and DEV.runs_url("01E") == "http://127.0.0.1:8288/v1/events/01E/runs"
    with pytest.raises(JobsConfigError, match="INNGEST_EVENT_KEY or INNGEST_SIGNING_KEY"):
        InngestTarget.from_env({})
    with pytest.raises(JobsConfigError, match="INNGEST_BASE_URL"):
        InngestTarget.from_env({"INNGEST_DEV": "1"})
    assert SIGNING_KEY not in repr(CLOUD)


def test_cloud_polls_with_the_signing_key_until_completed() -> None:
    seen: list[httpx.Request] = []
    clock = FakeClock()
    answers = [[], [run("Running")], [run("Completed")]]
    with runs_client(answers, seen) as client:
        got, polls = jobs_api.wait_for_run(
            client, CLOUD, "01EVT", "process-video", 10, clock=clock, sleep=clock.sleep
        )
    assert (got.run_id, got.status, polls) == ("01RUN", "Completed", 3)
    assert str(seen[0].url) == "https://api.inngest.com/v1/events/01EVT/runs"
    assert seen[0].method == "GET"
    assert seen[0].headers["Authorization"] == f"Bearer {SIGNING_KEY}"


def test_dev_server_reads_bypass_its_five_second_cache() -> None:
    seen: list[httpx.Request] = []
    clock = FakeClock()
    with runs_client([[run("Running")], [run("Completed")]], seen) as client:
        jobs_api.wait_for_run(
            client, DEV, "01E", "process-video", 10, clock=clock, sleep=clock.sleep
        )
    assert [r.url.params["attempt"] for r in seen] == ["1", "2"]
    assert "Authorization" not in seen[0].headers


@pytest.mark.parametrize("status", ["Failed", "Cancelled"])
def test_a_run_that_ends_otherwise_fails_naming_function_and_status(status: str) -> None:
    with runs_client([[run(status)]], []) as client, pytest.raises(JobsError) as err:
        jobs_api.wait_for_run(client, CLOUD, "01E", "process-video", 10)
    assert str(err.value) == f"jobs: process-video run 01RUN ended {status}"


@pytest.mark.parametrize(
    ("answers", "last"),
    [([[]], "no run started"), ([[run("Running")]], "run 01RUN is still Running")],
)
def test_deadline_names_the_last_status(answers: list[list[dict[str, object]]], last: str) -> None:
    clock = FakeClock()
    with runs_client(answers, []) as client, pytest.raises(JobsError) as err:
        jobs_api.wait_for_run(
            client, DEV, "01E", "process-video", 2, clock=clock, sleep=clock.sleep
        )
    assert str(err.value) == f"jobs: process-video did not complete within 2s of event 01E: {last}"


def test_refused_and_dead_runs_api_are_named() -> None:
    refuse = httpx.MockTransport(lambda r: httpx.Response(401, json={"error": "unauthorized"}))
    with httpx.Client(transport=refuse) as client, pytest.raises(JobsError, match="answered 401"):
        jobs_api.fetch_runs(client, CLOUD, "01E", 1)

    def dead(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    down = httpx.Client(transport=httpx.MockTransport(dead))
    with down as client, pytest.raises(JobsError, match="did not answer \\(ConnectError\\)"):
        jobs_api.fetch_runs(client, DEV, "01E", 1)


def test_sync_wait_finds_the_slug_or_names_what_the_dev_server_has() -> None:
    body = {"version": "1.0.0-2e8e370", "functions": [{"slug": "mentora-process-video"}]}
    ok = httpx.MockTransport(lambda r: httpx.Response(200, json=body))
    with httpx.Client(transport=ok) as client:
        assert jobs_api.wait_for_sync(client, DEV, "process-video", 1) == "mentora-process-video"
    clock = FakeClock()
    with httpx.Client(transport=ok) as client, pytest.raises(JobsError) as err:
        jobs_api.wait_for_sync(client, DEV, "send-email", 1, clock=clock, sleep=clock.sleep)
    assert "has not synced send-email" in str(err.value) and "mentora-process-video" in str(
        err.value
    )


class EventApi(BaseHTTPRequestHandler):
    """Inngest's Event API: POST /e/<event key> with the events as JSON."""

    seen: list[tuple[str, object]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        EventApi.seen.append((self.path, body))
        answer = json.dumps({"ids": ["01HEVENT"], "status": 200}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def event_api() -> Iterator[str]:
    EventApi.seen.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), EventApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_sdk_sends_to_the_event_api_with_the_key(event_api: str) -> None:
    target = InngestTarget.from_env(
        {
            "INNGEST_EVENT_KEY": "evtkey",
            "INNGEST_SIGNING_KEY": SIGNING_KEY,
            "INNGEST_EVENT_API_BASE_URL": event_api,
        }  # fmt: skip
    )
    event_id = jobs_api.send_event(target, "video/upload.completed", {"smokeMarker": "smoke:r"}, 3)
    assert event_id == "01HEVENT"
    path, body = EventApi.seen[0]
    assert path == "/e/evtkey"
    event = body[0] if isinstance(body, list) else body
    assert event["name"] == "video/upload.completed"
    assert event["data"] == {"smokeMarker": "smoke:r"}
