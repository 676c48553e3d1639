"""Triggering the app's `/api/test-sentry` and finding the event by id in the tracker's API:
Bugsink locally, Sentry on cloud. Plain functions (usable by bench and the gate).

- Sentry: `GET {api}/api/0/projects/{org}/{project}/events/{event_id}/` with a bearer token of
  scope `project:read`; 200 with `eventID` once stored, 404 before (docs.sentry.io/api/events/
  retrieve-an-event-for-a-project/). Org auth tokens only hold `org:ci`, so the app's
  SENTRY_AUTH_TOKEN cannot read events: smoke uses its own SENTRY_READ_TOKEN (a user or
  internal-integration token), which the cloud stacks export in `smoke_env`, never to the app.
- Bugsink: `GET {api}/api/canonical/0/events/lookup/?project=<id>&event_id=<uuid>` with a
  bearer token; 200 with `event_id` once digested, 404 before (bugsink 2.6.2
  events/api_views.py `lookup_by_event_id`).

>>> t = TrackerTarget.from_env({"SENTRY_API_URL": "https://sentry.io", "SENTRY_READ_TOKEN": "t",
...     "SENTRY_ORG": "acme", "SENTRY_PROJECT": "web"})
>>> t.event_request("0123")[0]
'https://sentry.io/api/0/projects/acme/web/events/0123/'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SENTRY_API = "https://sentry.io"
READ_SCOPE = "project:read"
READ_TOKEN_FIX = (
    f"a Sentry user auth token or internal-integration token with scope {READ_SCOPE} (org "
    "tokens only hold org:ci), stored with `pulumi config set --secret mentora:sentryReadToken "
    "<token> -s <stack>`"
)


class ErrorsError(Exception):
    """Raised when the test error cannot be triggered or does not arrive in time; the message
    names the app or tracker, the event id and what was seen last."""


class ErrorsConfigError(ErrorsError):
    """Raised when the env lacks the tracker's API settings (named, with the fix)."""


@dataclass(frozen=True)
class TrackerTarget:
    """The tracker's read API: Sentry's (SENTRY_ORG set) or Bugsink's (project id only)."""

    api_url: str
    project: str
    org: str | None = None
    token: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TrackerTarget:
        """SENTRY_PROJECT and SENTRY_API_URL (default https://sentry.io); SENTRY_ORG selects
        Sentry's API, read with SENTRY_READ_TOKEN, its absence Bugsink's (SENTRY_PROJECT =
        project id), read with SENTRY_AUTH_TOKEN."""
        org = env.get("SENTRY_ORG") or None
        token_name = "SENTRY_READ_TOKEN" if org else "SENTRY_AUTH_TOKEN"
        missing = [k for k in (token_name, "SENTRY_PROJECT") if not env.get(k)]
        if not org and not env.get("SENTRY_API_URL"):
            missing.append("SENTRY_API_URL or SENTRY_ORG")
        if missing:
            raise ErrorsConfigError(
                f"errors: no {', '.join(missing)} to look the test event up with; the local "
                "stack's env has them from its tracker, a cloud stack needs the org and project "
                f"slugs in its config and {READ_TOKEN_FIX}"
            )
        api = (env.get("SENTRY_API_URL") or SENTRY_API).rstrip("/")
        return cls(api, env["SENTRY_PROJECT"], org, env[token_name])

    @property
    def kind(self) -> str:
        return "Sentry" if self.org else "Bugsink"

    def event_request(self, event_id: str) -> tuple[str, dict[str, str]]:
        """URL and query parameters that fetch one event by its id."""
        if self.org:
            return f"{self.api_url}/api/0/projects/{self.org}/{self.project}/events/{event_id}/", {}
        lookup = f"{self.api_url}/api/canonical/0/events/lookup/"
        return lookup, {"project": self.project, "event_id": event_id}

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


# docs/app-contract.md: `/api/test-sentry` waits at most this long for the tracker before it
# answers, so a call to it gets this on top of one call's timeout.
APP_FLUSH_S = 2.0


def trigger_test_error(client: Any, app_url: str, tag: str, timeout_s: float | None = None) -> str:
    """`GET {app}/api/test-sentry?tag=<tag>`; the app captures an exception and answers its id
    (within `timeout_s` plus the app's flush, else the client's own timeout)."""
    import httpx

    limit = {} if timeout_s is None else {"timeout": timeout_s + APP_FLUSH_S}
    try:
        response = client.get(f"{app_url}/api/test-sentry", params={"tag": tag}, **limit)
    except httpx.HTTPError as exc:
        raise ErrorsError(
            f"errors: the app's /api/test-sentry did not answer ({type(exc).__name__})"
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    event_id = body.get("event_id") if isinstance(body, dict) else None
    if response.status_code != 200 or not isinstance(event_id, str) or not event_id:
        reason = body.get("fix") or body.get("error") if isinstance(body, dict) else None
        raise ErrorsError(
            f"errors: /api/test-sentry answered {response.status_code} without an event_id"
            + (f" ({reason})" if reason else "")
        )
    return event_id.replace("-", "")


def fetch_event(client: Any, target: TrackerTarget, event_id: str) -> dict[str, Any] | None:
    """The stored event, or None while the tracker does not have it yet (404)."""
    import httpx

    url, params = target.event_request(event_id)
    try:
        response = client.get(url, params=params, headers=target.headers())
    except httpx.HTTPError as exc:
        raise ErrorsError(
            f"errors: {target.kind}'s API at {target.api_url} did not answer ({type(exc).__name__})"
        ) from None
    if response.status_code == 404:
        return None
    if response.status_code in (401, 403):
        fix = (
            f"SENTRY_READ_TOKEN must be {READ_TOKEN_FIX}"
            if target.org
            else "is SENTRY_AUTH_TOKEN current and allowed to read events?"
        )
        raise ErrorsError(
            f"errors: {target.kind}'s API refused the token ({response.status_code}); {fix}"
        )
    if response.status_code != 200:
        raise ErrorsError(f"errors: {target.kind}'s API answered {response.status_code}")
    body = response.json()
    return body if isinstance(body, dict) else None


def stored_id(event: Mapping[str, Any]) -> str:
    """The event id a tracker returns (Sentry `eventID`, Bugsink `event_id`), without dashes."""
    return str(event.get("eventID") or event.get("event_id") or "").replace("-", "")


def wait_for_event(
    client: Any,
    target: TrackerTarget,
    event_id: str,
    deadline_s: float,
    poll_s: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Any], int]:
    """Poll until the tracker has `event_id`; return it with the number of reads."""
    end = clock() + deadline_s
    attempt = 0
    while True:
        attempt += 1
        event = fetch_event(client, target, event_id)
        if event is not None:
            if stored_id(event) != event_id:
                raise ErrorsError(f"errors: {target.kind} answered another event for {event_id}")
            return event, attempt
        if clock() >= end:
            raise ErrorsError(
                f"errors: event {event_id} did not arrive in {target.kind} (project "
                f"{target.project}) within {deadline_s:g}s; is the app's SENTRY_DSN this project's?"
            )
        sleep(poll_s)
