"""Sending an event with the `inngest` SDK and following the runs it started, on the local Dev
Server or Inngest Cloud. Plain functions (usable by bench and the gate); pytest wraps them.

Runs API (both): `GET {api}/v1/events/{event_id}/runs` -> `{"data": [{"run_id", "status",
"function_id", "output", ...}], "metadata": {...}}`. Sources: Inngest REST API docs,
https://www.inngest.com/docs/examples/fetch-run-status-and-output (bearer = signing key) and
github.com/inngest/inngest v1.0.0 pkg/api/apiv1/events.go (the Dev Server's handler);
statuses from pkg/enums/run_status.go: Running, Completed, Failed, Cancelled, Overflowed,
Scheduled, Unknown, Skipped.

>>> target = InngestTarget.from_env({"INNGEST_DEV": "1", "INNGEST_BASE_URL": "http://127.0.0.1:8288"})
>>> target.runs_url("01J")
'http://127.0.0.1:8288/v1/events/01J/runs'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

CLOUD_API = "https://api.inngest.com"
CLOUD_EVENT_API = "https://inn.gs"
TERMINAL = frozenset({"Completed", "Failed", "Cancelled", "Overflowed", "Skipped"})
SMOKE_APP_ID = "mentora-smoke"  # the sender's id; runs belong to the app that serves functions


class JobsError(Exception):
    """Raised when an event cannot be sent, the runs API fails, or a run does not complete in
    time; the message names the function, the event or run id and the last status seen."""


class JobsConfigError(JobsError):
    """Raised when the env lacks what a mode needs (named, with the fix)."""


@dataclass(frozen=True)
class InngestTarget:
    """Where events go and runs are read: the local Dev Server (dev) or Inngest Cloud."""

    dev: bool
    api_base_url: str
    event_api_base_url: str
    event_key: str | None = field(default=None, repr=False)
    signing_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> InngestTarget:
        """The SDKs' own names: INNGEST_DEV + INNGEST_BASE_URL (dev), else INNGEST_EVENT_KEY and
        INNGEST_SIGNING_KEY (cloud; INNGEST_API_BASE_URL / INNGEST_EVENT_API_BASE_URL override)."""
        dev = env.get("INNGEST_DEV", "").strip().lower() not in ("", "0", "false")
        base = env.get("INNGEST_BASE_URL", "").strip().rstrip("/")
        if dev:
            if not base:
                raise JobsConfigError(
                    "jobs: INNGEST_DEV is set but INNGEST_BASE_URL is not; the stack's env must "
                    "name the Dev Server (e.g. http://127.0.0.1:8288)"
                )
            return cls(True, base, base)
        missing = [k for k in ("INNGEST_EVENT_KEY", "INNGEST_SIGNING_KEY") if not env.get(k)]
        if missing:
            raise JobsConfigError(
                f"jobs: the stack's env has no {' or '.join(missing)} (Inngest Cloud) and no "
                "INNGEST_DEV=1 + INNGEST_BASE_URL (Dev Server); set them in the stack's config"
            )
        return cls(
            False,
            (env.get("INNGEST_API_BASE_URL") or base or CLOUD_API).rstrip("/"),
            (env.get("INNGEST_EVENT_API_BASE_URL") or base or CLOUD_EVENT_API).rstrip("/"),
            env["INNGEST_EVENT_KEY"],
            env["INNGEST_SIGNING_KEY"],
        )

    def runs_url(self, event_id: str) -> str:
        return f"{self.api_base_url}/v1/events/{event_id}/runs"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.signing_key}"} if self.signing_key else {}


@dataclass(frozen=True)
class Run:
    """One function run of an event, as the runs API lists it."""

    run_id: str
    status: str
    function_id: str = ""
    output: Any = None


def send_event(target: InngestTarget, name: str, data: dict[str, Any], timeout_s: float) -> str:
    """Send one event with the inngest SDK; return its id (the SDK retries up to 5 times)."""
    import inngest

    client = inngest.Inngest(
        app_id=SMOKE_APP_ID,
        is_production=not target.dev,
        event_key=target.event_key,
        event_api_base_url=target.event_api_base_url,
        api_base_url=target.api_base_url,
        request_timeout=int(timeout_s * 1000),
    )
    try:
        ids = client.send_sync(inngest.Event(name=name, data=data))
    except Exception as exc:  # the SDK raises its own error classes and httpx's
        raise JobsError(
            f"jobs: the Inngest event API at {target.event_api_base_url} did not take {name} "
            f"({type(exc).__name__})"
        ) from None
    if not ids:
        raise JobsError(f"jobs: the Inngest event API returned no id for {name}")
    return str(ids[0])


def parse_runs(body: object) -> list[Run]:
    """The runs of a runs-API answer; anything else is a JobsError naming the shape."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise JobsError("jobs: the runs API answered without a `data` list")
    return [
        Run(str(r["run_id"]), str(r["status"]), str(r.get("function_id", "")), r.get("output"))
        for r in data
        if isinstance(r, dict) and "run_id" in r and "status" in r
    ]


def fetch_runs(client: Any, target: InngestTarget, event_id: str, attempt: int) -> list[Run]:
    """One read of the event's runs. The Dev Server caches this answer for 5 s keyed by the
    full URL (apiv1/cache.go): a per-attempt query parameter reads it fresh there."""
    import httpx

    params = {"attempt": str(attempt)} if target.dev else None
    try:
        response = client.get(target.runs_url(event_id), headers=target.headers(), params=params)
    except httpx.HTTPError as exc:
        raise JobsError(
            f"jobs: the runs API at {target.api_base_url} did not answer ({type(exc).__name__})"
        ) from None
    if response.status_code != 200:
        raise JobsError(f"jobs: the runs API answered {response.status_code} for event {event_id}")
    try:
        return parse_runs(response.json())
    except ValueError:
        raise JobsError("jobs: the runs API answered without JSON") from None


def wait_for_run(
    client: Any,
    target: InngestTarget,
    event_id: str,
    function: str,
    deadline_s: float,
    poll_s: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Run, int]:
    """Poll until the event's run ends; return it Completed with the number of reads, or raise
    naming `function` and its last status (none seen, still Running, Failed...)."""
    end = clock() + deadline_s
    attempt, runs = 0, []
    while True:
        attempt += 1
        runs = fetch_runs(client, target, event_id, attempt)
        done = [r for r in runs if r.status in TERMINAL]
        if done:
            run = done[0]
            if run.status != "Completed":
                raise JobsError(f"jobs: {function} run {run.run_id} ended {run.status}")
            return run, attempt
        if clock() >= end:
            break
        sleep(poll_s)
    last = f"run {runs[0].run_id} is still {runs[0].status}" if runs else "no run started"
    raise JobsError(
        f"jobs: {function} did not complete within {deadline_s:g}s of event {event_id}: {last}"
    )


def dev_server_functions(client: Any, target: InngestTarget) -> list[str]:
    """Slugs of the functions the Dev Server has synced from the app (`GET /dev`, v1.0.0's
    pkg/devserver/api.go `Info`): `<app id>-<function id>`, e.g. `mentora-process-video`."""
    import httpx

    try:
        response = client.get(f"{target.api_base_url}/dev")
        body = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        raise JobsError(f"jobs: the Dev Server at {target.api_base_url} did not answer") from None
    functions = body.get("functions") if isinstance(body, dict) else None
    return [str(f.get("slug")) for f in functions or [] if isinstance(f, dict)]


def wait_for_sync(
    client: Any,
    target: InngestTarget,
    function: str,
    deadline_s: float,
    poll_s: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The slug of `function` once the Dev Server has synced it; an event sent before would
    start no run. Raises naming the function and what the server has."""
    end = clock() + deadline_s
    while True:
        slugs = dev_server_functions(client, target)
        match = [s for s in slugs if s == function or s.endswith(f"-{function}")]
        if match:
            return match[0]
        if clock() >= end:
            raise JobsError(
                f"jobs: the Dev Server has not synced {function} from the app within "
                f"{deadline_s:g}s (it has: {', '.join(slugs) or 'no functions'}); is the app up "
                "and its /api/inngest the Dev Server's --sdk-url?"
            )
        sleep(poll_s)


def sync_app(client: Any, app_url: str, timeout_s: float) -> dict[str, Any]:
    """`PUT {app}/api/inngest`: the app registers its functions with Inngest Cloud (Inngest's
    "curl -X PUT" sync, inngest.com/docs/apps/cloud; the SDK's out-of-band sync signs its own
    `POST /fn/register`). Returns Inngest's answer; raises naming the app and what was said."""
    import httpx

    url = f"{app_url.rstrip('/')}/api/inngest"
    fix = "is the app's INNGEST_SIGNING_KEY this Inngest environment's signing key?"
    try:
        response = client.put(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise JobsError(
            f"jobs: syncing {url} with Inngest: the app did not answer ({type(exc).__name__})"
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise JobsError(
            f"jobs: syncing {url} with Inngest answered {response.status_code}, not JSON; {fix}"
        )
    said = body.get("error") or body.get("message") or ""
    if response.status_code != 200 or body.get("error"):
        raise JobsError(
            f"jobs: syncing {url} with Inngest answered {response.status_code}"
            + (f" ({str(said)[:160]})" if said else "")
            + f"; {fix}"
        )
    return body
