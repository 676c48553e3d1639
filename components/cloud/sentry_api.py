"""Sentry's monitors-and-alerts API: a small client and the request bodies this project sends.

Source: Sentry's published OpenAPI schema (github.com/getsentry/sentry-api-schema,
`openapi-derefed.json`, 2026-08): the metric-alert and issue-alert endpoints
(`/organizations/{org}/alert-rules/`, `/projects/{org}/{project}/rules/`) are gone from it;
alert rules are now *monitors* (detectors) that open issues and *alerts* (workflows) that act
on issues:

- `GET  /api/0/organizations/{org}/detectors/?project={slug}&query=type:issue_stream` — the
  project's issue-stream monitor, which alerts on new issues connect to (listOrganizationDetectors)
- `POST /api/0/organizations/{org}/workflows/`, `PUT|GET|DELETE .../workflows/{id}/`
  (createOrganizationWorkflow ...; scope `alerts:write`)
- `POST /api/0/organizations/{org}/projects/{project}/detectors/`,
  `PUT|GET|DELETE /api/0/organizations/{org}/detectors/{id}/` (createOrganizationProjectDetector
  ...; scope `alerts:write`)

Bodies are camelCase (the schema: "parameters defined in snake case, but passed as camel case").
tests/unit/cloud/test_sentry_alerts_contract.py checks every body against that schema's text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from components.cloud.errors import SentryApiError, scrub

API_URL = "https://sentry.io"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
TransportFactory = Callable[[], httpx.BaseTransport]
ATTEMPTS = 4  # one call and at most three retries: the longest wait is bounded by MAX_WAIT_S each
MAX_WAIT_S = 20.0
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# "Notify on Preferred Channel" to the issue's suggested assignees, else every active member:
# needs no user or team id (the schema's second `email` example).
EMAIL_SUGGESTED_ASSIGNEES: dict[str, Any] = {
    "type": "email",
    "integrationId": None,
    "data": {"fallthroughType": "ActiveMembers"},
    "config": {"targetType": "issue_owners", "targetDisplay": None, "targetIdentifier": ""},
    "status": "active",
}
HIGH_PRIORITY = 75  # conditionResult / issue priority "High" in the schema
ALERT_FREQUENCY_MIN = 30  # act at most once per 30 minutes per issue
SPIKE_WINDOW_S = 900  # errors counted over 15 minutes ...
SPIKE_COMPARED_TO_S = 3600  # ... against the same 15 minutes an hour earlier


def new_issue_alert(name: str, issue_stream_id: str) -> dict[str, Any]:
    """The alert (workflow) e-mailing when the project sees an issue for the first time."""
    return {
        "name": name,
        "enabled": True,
        "detectorIds": [int(issue_stream_id)],
        "config": {"frequency": ALERT_FREQUENCY_MIN},
        "environment": None,
        "triggers": {
            "logicType": "any-short",
            "conditions": [
                {"type": "first_seen_event", "comparison": True, "conditionResult": True}
            ],
            "actions": [],
        },
        "actionFilters": [
            {"logicType": "all", "conditions": [], "actions": [EMAIL_SUGGESTED_ASSIGNEES]}
        ],
    }


def spike_alert(name: str) -> dict[str, Any]:
    """The alert (workflow) e-mailing when the spike monitor opens a high-priority issue."""
    return {
        "name": name,
        "enabled": True,
        "detectorIds": [],
        "config": {"frequency": ALERT_FREQUENCY_MIN},
        "environment": None,
        "triggers": {"logicType": "any-short", "conditions": [], "actions": []},
        "actionFilters": [
            {
                "logicType": "all",
                "conditions": [
                    {
                        "type": "issue_priority_greater_or_equal",
                        "comparison": HIGH_PRIORITY,
                        "conditionResult": True,
                    }
                ],
                "actions": [EMAIL_SUGGESTED_ASSIGNEES],
            }
        ],
    }


def spike_monitor(name: str, workflow_id: str, increase_percent: int) -> dict[str, Any]:
    """The metric monitor (detector): error events up by more than `increase_percent` percent
    on an hour before ("Change" detection) opens a high-priority issue; back under, resolved."""
    return {
        "name": name,
        "type": "metric_issue",
        "enabled": True,
        "description": f"Errors up more than {increase_percent}% on an hour before.",
        "workflowIds": [int(workflow_id)],
        "dataSources": [
            {
                "aggregate": "count()",
                "dataset": "events",
                "eventTypes": ["default", "error"],
                "query": "",
                "queryType": 0,
                "timeWindow": SPIKE_WINDOW_S,
            }
        ],
        "config": {"detectionType": "percent", "comparisonDelta": SPIKE_COMPARED_TO_S},
        "conditionGroup": {
            "logicType": "any",
            "conditions": [
                {"type": "gt", "comparison": increase_percent, "conditionResult": HIGH_PRIORITY},
                {"type": "lte", "comparison": increase_percent, "conditionResult": 0},
            ],
            "actions": [],
        },
    }


class SentryClient:
    """One `httpx.Client` to Sentry's API with the alerts token; use it as a context manager.

    The token only travels in the Authorization header; every error message is scrubbed of it.
    """

    def __init__(
        self,
        token: str,
        org: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise SentryApiError("-", "/", 0, "the alerts token is empty")
        self.org, self._token, self._sleep = org, token, sleep
        self._http = httpx.Client(
            base_url=API_URL,
            transport=transport,
            timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "mentora-infra"},
        )

    def __enter__(self) -> SentryClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """The decoded JSON answer ({} if empty; None for a 404 when `missing_ok`).

        429, 5xx and transport errors are retried (ATTEMPTS in all, waits of 1, 2, 4 s or what
        `Retry-After` says, at most MAX_WAIT_S); a POST only when it cannot have created
        anything: 429, or no connection made.
        """
        full = f"/api/0/organizations/{self.org}{path}"
        for attempt in range(1, ATTEMPTS + 1):
            wait = min(2.0 ** (attempt - 1), MAX_WAIT_S)
            try:
                response = self._http.request(method, full, json=body, params=params)
            except httpx.HTTPError as exc:
                safe = method != "POST" or isinstance(exc, httpx.ConnectError)
                if attempt < ATTEMPTS and safe:
                    self._sleep(wait)
                    continue
                raise SentryApiError(method, full, 0, scrub(str(exc), [self._token])) from None
            retry = response.status_code == 429 or (
                method != "POST" and response.status_code in _RETRY_STATUSES
            )
            if not retry or attempt == ATTEMPTS:
                break
            after = response.headers.get("Retry-After", "")
            self._sleep(min(float(after), MAX_WAIT_S) if after.isdigit() else wait)
        if response.status_code == 404 and missing_ok:
            return None
        if not response.is_success:
            text = scrub(response.text[:300], [self._token])
            raise SentryApiError(method, full, response.status_code, text)
        return response.json() if response.content else {}

    def issue_stream_id(self, project: str) -> str:
        """The id of `project`'s issue-stream monitor (every project has one)."""
        found = self.request(
            "GET", "/detectors/", params={"project": project, "query": "type:issue_stream"}
        )
        ids = [str(d["id"]) for d in found or [] if d.get("type") == "issue_stream"]
        if not ids:
            raise SentryApiError(
                "GET", "/detectors/", 200, f"project {project} has no issue-stream monitor"
            )
        return ids[0]
