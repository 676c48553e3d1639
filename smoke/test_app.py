"""App checks against the deployed app's contract (docs/app-contract.md): health, rate limit,
Inngest functions. Skipped, with the reason printed, when the stack has no `app_url` output."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import pytest

from smoke.checks import CheckRecorder, fail_if_down, unreachable
from smoke.cloud_events import inngest_signature, send_inngest_event, send_sentry_event
from smoke.guide import GUIDE_FUNCTIONS
from smoke.outputs import StackOutputs

BURST = 25
HEALTH_PROBE_S = 2  # the contract lets /api/health take up to its probes' 2 s deadline
NO_APP = "stack has no app_url output (it deploys no app; the contract is docs/app-contract.md)"


@pytest.fixture(scope="module")
def app_url(outputs: StackOutputs) -> str:
    if not outputs.app_url:
        pytest.skip(NO_APP)
    return outputs.app_url


def http(outputs: StackOutputs, method: str, url: str, timeout_s: float, **kw: Any) -> Any:
    """One HTTP call with a timeout; no answer fails the check naming the app and the fix."""
    import httpx

    fail_if_down("app", f"{method} {urlsplit(url).path or '/'}", url, outputs)
    try:
        return httpx.request(method, url, timeout=timeout_s, **kw)
    except httpx.HTTPError as exc:
        what = f"{method} {urlsplit(url).path or '/'}"
        raise unreachable("app", what, url, exc, outputs) from None


def json_of(response: Any, path: str) -> Any:
    """The JSON body, or a failure naming the path and status when there is none."""
    try:
        return response.json()
    except ValueError:
        pytest.fail(f"app: {path} answered {response.status_code} without JSON", pytrace=False)


def test_health_reports_every_service_healthy(
    app_url: str, check: CheckRecorder, outputs: StackOutputs, timeout_s: float
) -> None:
    url = f"{app_url}/api/health"
    with check.timed(url):
        response = http(outputs, "GET", url, timeout_s + HEALTH_PROBE_S)
    body = json_of(response, "/api/health")
    services = body.get("services", {}) if isinstance(body, dict) else {}
    sick = sorted(n for n, s in services.items() if not s.get("healthy"))
    assert response.status_code == 200 and body.get("status") == "healthy", (
        f"app: /api/health answered {response.status_code} ({body.get('status')}); "
        f"unhealthy: {', '.join(sick) or 'none reported'}"
    )
    assert {"database", "cache"} <= set(services), f"app: /api/health lists only {sorted(services)}"
    assert all(isinstance(s.get("latency"), int | float) for s in services.values())


def test_the_app_runs_with_this_updates_configuration(
    app_url: str, check: CheckRecorder, outputs: StackOutputs, timeout_s: float
) -> None:
    if not outputs.config_fingerprint:
        pytest.skip("stack exports no config_fingerprint (deployed before fingerprints existed)")
    url = f"{app_url}/api/health"
    with check.timed(url):
        response = http(outputs, "GET", url, timeout_s + HEALTH_PROBE_S)
    body = json_of(response, "/api/health")
    reported = body.get("config") if isinstance(body, dict) else None
    assert reported, (
        "app: /api/health reports no `config`: the app must echo MENTORA_CONFIG_FINGERPRINT "
        "(docs/app-contract.md) so smoke can tell which deployment it checks"
    )
    assert reported == outputs.config_fingerprint, (
        f"app: the deployment at {app_url} runs configuration {reported}, not this update's "
        f"{outputs.config_fingerprint}: it is stale (a new deployment did not go live); "
        f"run: {outputs.fix}"
    )


@pytest.mark.writes
def test_rate_limit_refuses_exactly_the_excess(
    app_url: str, check: CheckRecorder, outputs: StackOutputs, timeout_s: float, run_id: str
) -> None:
    import httpx

    async def burst() -> list[httpx.Response]:
        headers = {"X-Client-Id": f"smoke-{run_id}"}
        async with httpx.AsyncClient(timeout=timeout_s + HEALTH_PROBE_S) as client:
            calls = (
                client.post(f"{app_url}/api/chat", json={"message": "Test"}, headers=headers)
                for _ in range(BURST)
            )
            return list(await asyncio.gather(*calls))

    with check.timed(f"{app_url}/api/chat x{BURST}"):
        fail_if_down("app", f"POST /api/chat x{BURST}", app_url, outputs)
        try:
            responses = asyncio.run(burst())
        except httpx.HTTPError as exc:
            what = f"POST /api/chat x{BURST}"
            raise unreachable("app", what, app_url, exc, outputs) from None
    others = sorted({r.status_code for r in responses} - {200, 429})
    assert not others, f"app: /api/chat answered {others}"
    limit_header = responses[0].headers.get("X-RateLimit-Limit")
    assert limit_header, "app: /api/chat answers without X-RateLimit-Limit"
    limit = int(limit_header)
    refused = [r for r in responses if r.status_code == 429]
    assert len(refused) == max(0, BURST - limit), (
        f"app: {len(refused)} of {BURST} requests refused, expected {max(0, BURST - limit)} "
        f"(limit {limit}/min)"
    )
    for response in refused:
        assert int(response.headers.get("Retry-After", "0")) >= 1, "app: 429 without Retry-After"
        assert response.headers.get("X-RateLimit-Remaining") == "0"
        assert "X-RateLimit-Reset" in response.headers


def test_inngest_serves_the_guide_functions(
    app_url: str, check: CheckRecorder, outputs: StackOutputs, timeout_s: float
) -> None:
    url = f"{app_url}/api/inngest"
    with check.timed(url):
        response = http(outputs, "GET", url, timeout_s)
        if response.status_code == 401:  # a cloud-mode handler: sign the request like Inngest
            signing_key = outputs.env.get("INNGEST_SIGNING_KEY")
            assert signing_key, (
                "app: /api/inngest is in cloud mode (401) and the stack has no "
                "INNGEST_SIGNING_KEY to sign with; set it: pulumi config set --secret "
                f"mentora:inngestSigningKey <key> -s {outputs.stack}"
            )
            signed = {"X-Inngest-Signature": inngest_signature(b"", signing_key)}
            response = http(outputs, "GET", url, timeout_s, headers=signed)
    assert response.status_code == 200, f"app: /api/inngest answered {response.status_code}"
    body = json_of(response, "/api/inngest")
    ids = {f["id"] if isinstance(f, dict) else f for f in body.get("functions", [])}
    missing = [f for f in GUIDE_FUNCTIONS if f not in ids]
    assert not missing, f"app: Inngest functions missing: {', '.join(missing)}"
    assert body.get("function_count") == len(ids)


def deliver(check: CheckRecorder, timeout_s: float, service: str, target: str, send: Any) -> None:
    """POST one test event with `send(client)`; anything but 200 fails naming the service."""
    import httpx

    with check.timed(target), httpx.Client(timeout=timeout_s) as client:
        try:
            response = send(client)
        except httpx.HTTPError as exc:
            pytest.fail(f"{service}: {target} unreachable ({type(exc).__name__})", False)
    assert response.status_code == 200, (
        f"{service}: {target} refused the test event ({response.status_code})"
    )


@pytest.mark.writes
def test_inngest_accepts_a_test_event(
    check: CheckRecorder, outputs: StackOutputs, timeout_s: float, run_id: str
) -> None:
    event_key = outputs.env.get("INNGEST_EVENT_KEY")
    if not event_key:
        pytest.skip("stack provides no INNGEST_EVENT_KEY (the local stack has no Inngest cloud)")
    send = lambda client: send_inngest_event(client, event_key, run_id)  # noqa: E731
    deliver(check, timeout_s, "jobs", "the Inngest event API", send)


@pytest.mark.writes
def test_sentry_accepts_a_test_event(
    check: CheckRecorder, outputs: StackOutputs, timeout_s: float, run_id: str
) -> None:
    dsn = outputs.env.get("SENTRY_DSN")
    if not dsn:
        pytest.skip("stack provides no SENTRY_DSN (the local stack has no Sentry project)")
    send = lambda client: send_sentry_event(client, dsn, run_id)  # noqa: E731
    deliver(check, timeout_s, "errors", "Sentry's envelope API", send)
