"""App checks against the deployed app's contract (docs/app-contract.md): health, rate limit,
Inngest functions (job runs and error arrival: jobs.py, errors.py). Skipped, with
the reason printed, when the stack has no `app_url` output."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from smoke.checks import check, client
from smoke.checks.common import (
    Recorder,
    fail_if_dependency_down,
    fail_if_down,
    fail_if_the_app_reports_down,
    unreachable,
)
from smoke.clients import jobs_api
from smoke.failures import CheckFailed, CheckSkipped
from smoke.guide import GUIDE_FUNCTIONS
from smoke.outputs import StackOutputs

BURST = 25
HEALTH_PROBE_S = 2  # the contract lets /api/health take up to its probes' 2 s deadline
NO_APP = "stack has no app_url output (it deploys no app; the contract is docs/app-contract.md)"


@client
def app_url(outputs: StackOutputs) -> str:
    if not outputs.app_url:
        raise CheckSkipped(NO_APP)
    return outputs.app_url


@client
def health(app_url: str, outputs: StackOutputs, timeout_s: float) -> Callable[[], Any]:
    """`GET /api/health` once per run, on first use: the health check and the configuration
    check read the same answer (the app's probes may take their deadline each time)."""
    answers: list[Any] = []

    def get() -> Any:
        if not answers:  # a failure is not kept: the next caller fails at once (outages)
            answers.append(
                http(outputs, "GET", f"{app_url}/api/health", timeout_s + HEALTH_PROBE_S)
            )
        return answers[0]

    return get


BYPASS_ENV = "VERCEL_AUTOMATION_BYPASS_SECRET"
"""In `smoke_env` of a cloud review stack: its preview sits behind Vercel Authentication, and
Vercel lets a request with this secret in `x-vercel-protection-bypass` through (pulumiverse_vercel
ProjectProtectionBypass: "the value of the `x-vercel-protection-bypass` header")."""


def app_headers(outputs: StackOutputs, headers: dict[str, str] | None = None) -> dict[str, str]:
    """`headers` plus, for a stack whose deployment is protected, the bypass header.

    >>> app_headers(StackOutputs.from_json(raw, "x"), {"a": "b"})  # doctest: +SKIP
    {'x-vercel-protection-bypass': '...', 'a': 'b'}
    """
    secret = outputs.smoke_env.get(BYPASS_ENV)
    return {**({"x-vercel-protection-bypass": secret} if secret else {}), **(headers or {})}


def http(outputs: StackOutputs, method: str, url: str, timeout_s: float, **kw: Any) -> Any:
    """One HTTP call with a timeout; no answer fails the check naming the app and the fix."""
    import httpx

    fail_if_down("app", f"{method} {urlsplit(url).path or '/'}", url, outputs)
    kw["headers"] = app_headers(outputs, kw.get("headers"))
    try:
        return httpx.request(method, url, timeout=timeout_s, **kw)
    except httpx.HTTPError as exc:
        what = f"{method} {urlsplit(url).path or '/'}"
        raise unreachable("app", what, url, exc, outputs) from None


def signed_client(client_id: str, redis_url: str) -> dict[str, str]:
    """Headers that make the app count requests against `client_id` (docs/app-contract.md:
    an id is trusted only when signed with the key derived from the stack's Redis password), so
    this run's burst never shares a window with another run's."""
    password = unquote(urlsplit(redis_url).password or "")
    key = hashlib.sha256(b"mentora-ratelimit:" + password.encode()).digest()
    signature = hmac.new(key, client_id.encode(), hashlib.sha256).hexdigest()
    return {"X-Client-Id": client_id, "X-Client-Signature": signature}


def json_of(response: Any, path: str) -> Any:
    """The JSON body, or a failure naming the path and status when there is none."""
    try:
        return response.json()
    except ValueError:
        raise CheckFailed(f"app: {path} answered {response.status_code} without JSON") from None


def signed_headers(signing_key: str) -> dict[str, str]:
    """`X-Inngest-Signature` for an empty-body request, made by the inngest SDK's own helper
    (the one its tests use to act as the Inngest server)."""
    from inngest._internal import net

    signature = net.sign_request(b"", signing_key)
    if isinstance(signature, Exception):
        raise signature
    return {"X-Inngest-Signature": signature}


@check()
def test_inngest_serves_the_guide_functions(
    app_url: str, check: Recorder, outputs: StackOutputs, timeout_s: float
) -> None:
    """The SDK's introspection of `/api/inngest` counts the guide's functions; on Inngest Cloud
    it is signed with the stack's signing key (which the app must share), and on the Dev Server
    the functions it synced from the app carry the guide's names. First of the app's checks: it
    answers at once, so a hung app is found within one `timeout_s` (the health check may take
    its probes' deadline more)."""
    url = f"{app_url}/api/inngest"
    env = outputs.env
    dev = env.get("INNGEST_DEV", "").lower() not in ("", "0", "false")
    signing_key = env.get("INNGEST_SIGNING_KEY")
    if not dev and not signing_key:
        raise CheckFailed(
            "app: the stack's env has neither INNGEST_DEV=1 with INNGEST_BASE_URL (the local Dev "
            "Server) nor INNGEST_SIGNING_KEY (Inngest Cloud) to check /api/inngest with; set it: "
            f"pulumi config set --secret mentora:inngestSigningKey <key> -s {outputs.stack}"
        )
    with check.timed(url):
        headers = signed_headers(signing_key) if signing_key and not dev else {}
        response = http(outputs, "GET", url, timeout_s, headers=headers)
    assert response.status_code == 200, f"app: /api/inngest answered {response.status_code}"
    body = json_of(response, "/api/inngest")
    if not dev:
        assert body.get("mode") == "cloud", (
            f"app: /api/inngest serves in {body.get('mode')} mode on stack {outputs.stack}; "
            "give the app INNGEST_SIGNING_KEY (and no INNGEST_DEV)"
        )
        assert body.get("authentication_succeeded") is True, (
            "app: /api/inngest did not accept a request signed with the stack's "
            "INNGEST_SIGNING_KEY (the app has another key)"
        )
    count = body.get("function_count")
    assert count == len(GUIDE_FUNCTIONS), (
        f"app: /api/inngest serves {count} functions, the guide has {len(GUIDE_FUNCTIONS)}"
    )
    if dev:
        dev_server_lists_the_guide_functions(outputs, timeout_s)


def dev_server_lists_the_guide_functions(outputs: StackOutputs, timeout_s: float) -> None:
    import httpx

    try:
        target = jobs_api.InngestTarget.from_env(outputs.env)
        with httpx.Client(timeout=timeout_s) as client:
            slugs = jobs_api.dev_server_functions(client, target)
    except jobs_api.JobsError as exc:
        # The app's check depends on the job queue: it names the job queue, not the app.
        raise CheckFailed(str(exc)) from None
    missing = [f for f in GUIDE_FUNCTIONS if not any(s.endswith(f"-{f}") for s in slugs)]
    assert not missing, f"app: the Dev Server has not synced: {', '.join(missing)}"


@check()
def test_health_reports_every_service_healthy(
    app_url: str, check: Recorder, outputs: StackOutputs, health: Callable[[], Any]
) -> None:
    url = f"{app_url}/api/health"
    needs = {"the database": outputs.database_url, "the cache": outputs.redis_url}
    fail_if_dependency_down("app", "GET /api/health", needs, outputs)
    with check.timed(url):
        response = health()
    body = json_of(response, "/api/health")
    services = body.get("services", {}) if isinstance(body, dict) else {}
    sick = sorted(n for n, s in services.items() if not s.get("healthy"))
    assert response.status_code == 200 and body.get("status") == "healthy", (
        f"app: /api/health answered {response.status_code} ({body.get('status')}); "
        f"unhealthy: {', '.join(sick) or 'none reported'}"
    )
    assert {"database", "cache"} <= set(services), f"app: /api/health lists only {sorted(services)}"
    assert all(isinstance(s.get("latency"), int | float) for s in services.values())


@check()
def test_the_app_runs_with_this_updates_configuration(
    app_url: str, check: Recorder, outputs: StackOutputs, health: Callable[[], Any]
) -> None:
    if not outputs.config_fingerprint:
        raise CheckSkipped(
            "stack exports no config_fingerprint (deployed before fingerprints existed)"
        )
    url = f"{app_url}/api/health"
    with check.timed(url):
        response = health()
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


@check(writes=True)
def test_rate_limit_refuses_exactly_the_excess(
    app_url: str,
    check: Recorder,
    outputs: StackOutputs,
    timeout_s: float,
    run_id: str,
    health: Callable[[], Any],
) -> None:
    import httpx

    async def burst() -> list[httpx.Response]:
        headers = app_headers(outputs, signed_client(f"smoke-{run_id}", outputs.redis_url))
        async with httpx.AsyncClient(timeout=timeout_s + HEALTH_PROBE_S) as client:
            calls = (
                client.post(f"{app_url}/api/chat", json={"message": "Test"}, headers=headers)
                for _ in range(BURST)
            )
            return list(await asyncio.gather(*calls))

    with check.timed(f"{app_url}/api/chat x{BURST}"):
        fail_if_down("app", f"POST /api/chat x{BURST}", app_url, outputs)
        needs = {"the cache": outputs.redis_url}  # the limiter's windows live there
        fail_if_dependency_down("app", f"POST /api/chat x{BURST}", needs, outputs)
        fail_if_the_app_reports_down(f"POST /api/chat x{BURST}", "cache", health)
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
