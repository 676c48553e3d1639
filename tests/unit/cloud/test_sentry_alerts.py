"""The Sentry alert rules' dynamic provider against a fake of Sentry's API (issue 24, part 2).

Contract source: Sentry's published OpenAPI schema, github.com/getsentry/sentry-api-schema
`openapi-derefed.json` at a589a26c3b29bfc342a47baa963b7970961f958e (2026-08-16). `SPEC` below
copies from it what the requests must satisfy: each operation's method and path, its request
body's properties (snake_case there, "passed as camel case"), the `logic_type` enum, the condition
types its descriptions list, and the auth scope. It has no `alert-rules` or project `rules`
endpoints any more: the old metric/issue alert resources (pulumiverse-sentry 0.0.9's) are gone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from components.cloud.errors import SentryApiError
from components.cloud.sentry_alerts import SentryAlertsProvider

ORG = "/api/0/organizations/mentora"
SPEC: dict[str, Any] = {
    "workflow_props": {
        "name",
        "id",
        "enabled",
        "detector_ids",
        "config",
        "environment",
        "triggers",
        "action_filters",
    },
    "detector_props": {
        "name",
        "type",
        "workflow_ids",
        "data_sources",
        "config",
        "condition_group",
        "owner",
        "description",
        "enabled",
    },
    "detector_required": {"name", "type"},
    "workflow_required": {"name"},
    "logic_types": {"any", "any-short", "all", "none"},
    "trigger_conditions": {
        "first_seen_event",
        "issue_resolved_trigger",
        "reappeared_event",
        "regression_event",
        "seer_activity_trigger",
    },
    "filter_conditions": {"issue_priority_greater_or_equal", "level", "age_comparison"},
    "detector_conditions": {"gt", "lte", "anomaly_detection"},
    "detection_types": {"static", "percent", "dynamic"},
    "comparison_deltas": {300, 900, 3600, 86400, 604800, 2592000},
    "email_target_types": {"user", "team", "issue_owners"},
    "fallthrough_types": {"ActiveMembers", "AllMembers", "NoOne"},
    "priorities": {75, 50, 0},
}
TOKEN = "sntrys_alerts_token_0123456789"
PROPS = {
    "organization": "mentora",
    "project": "mentora-app",
    "name": "mentora-prod",
    "increase_percent": 100,
    "token": TOKEN,
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class FakeSentry:
    """Answers the calls the provider makes, records them; `fail` maps "METHOD path" to a status."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []
        self.objects: dict[str, Any] = {}
        self.fail: dict[str, int] = {}
        self.next_id = 100

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.calls.append((request.method, path, dict(request.url.params), body))
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        key = f"{request.method} {path}"
        if key in self.fail:
            return httpx.Response(self.fail[key], json={"detail": f"refused {TOKEN}"})
        if key == f"GET {ORG}/detectors/":
            return httpx.Response(200, json=[{"id": "9", "type": "issue_stream", "name": "x"}])
        if request.method == "POST":
            self.next_id += 1
            kind = "workflows" if path.endswith("/workflows/") else "detectors"
            self.objects[f"{ORG}/{kind}/{self.next_id}/"] = body
            return httpx.Response(201, json={"id": str(self.next_id), **body})
        if request.method in ("PUT", "GET"):
            if path not in self.objects:
                return httpx.Response(404, json={"detail": "not found"})
            if request.method == "PUT":
                self.objects[path] = body
            return httpx.Response(200, json={"id": path.rsplit("/", 2)[1], **self.objects[path]})
        if request.method == "DELETE":
            return httpx.Response(204 if self.objects.pop(path, None) is not None else 404)
        raise AssertionError(f"unexpected call {key}")

    def factory(self) -> Callable[[], httpx.BaseTransport]:
        return lambda: httpx.MockTransport(self)

    def bodies(self, method: str, suffix: str) -> list[Any]:
        return [b for m, p, _, b in self.calls if m == method and p.endswith(suffix)]


def check_workflow(body: dict[str, Any]) -> None:
    assert set(body) <= {camel(p) for p in SPEC["workflow_props"]}
    assert {camel(p) for p in SPEC["workflow_required"]} <= set(body)
    assert all(isinstance(i, int) for i in body["detectorIds"])
    assert body["triggers"]["logicType"] in SPEC["logic_types"]
    for condition in body["triggers"]["conditions"]:
        assert condition["type"] in SPEC["trigger_conditions"]
    for group in body["actionFilters"]:
        assert group["logicType"] in SPEC["logic_types"]
        for condition in group["conditions"]:
            assert condition["type"] in SPEC["filter_conditions"]
        for action in group["actions"]:
            assert action["type"] == "email"
            assert action["config"]["targetType"] in SPEC["email_target_types"]
            assert action["data"]["fallthroughType"] in SPEC["fallthrough_types"]


def check_detector(body: dict[str, Any]) -> None:
    assert set(body) <= {camel(p) for p in SPEC["detector_props"]}
    assert {camel(p) for p in SPEC["detector_required"]} <= set(body)
    assert body["type"] == "metric_issue"
    assert all(isinstance(i, int) for i in body["workflowIds"])
    (source,) = body["dataSources"]
    # The schema's "Number of Errors Metric Monitor" data source.
    assert (source["aggregate"], source["dataset"], source["queryType"]) == ("count()", "events", 0)
    assert set(source["eventTypes"]) <= {"error", "default"}
    assert body["config"]["detectionType"] in SPEC["detection_types"]
    assert body["config"]["comparisonDelta"] in SPEC["comparison_deltas"]
    group = body["conditionGroup"]
    assert group["logicType"] in SPEC["logic_types"]
    for condition in group["conditions"]:
        assert condition["type"] in SPEC["detector_conditions"]
        assert condition["conditionResult"] in SPEC["priorities"]


def test_create_declares_both_alerts_and_the_spike_monitor_as_the_schema_says() -> None:
    fake = FakeSentry()
    result = SentryAlertsProvider(fake.factory()).create(dict(PROPS))
    methods = [(m, p) for m, p, _, _ in fake.calls]
    assert methods == [
        ("GET", f"{ORG}/detectors/"),
        ("POST", f"{ORG}/workflows/"),
        ("POST", f"{ORG}/workflows/"),
        ("POST", f"{ORG}/projects/mentora-app/detectors/"),
    ]
    assert fake.calls[0][2] == {"project": "mentora-app", "query": "type:issue_stream"}
    new_issue, spike = fake.bodies("POST", "/workflows/")
    check_workflow(new_issue)
    check_workflow(spike)
    assert new_issue["detectorIds"] == [9]  # connected to the project's issue stream
    assert new_issue["triggers"]["conditions"][0]["type"] == "first_seen_event"
    assert new_issue["name"] == "mentora-prod: new issue"
    (monitor,) = fake.bodies("POST", "/detectors/")
    check_detector(monitor)
    assert monitor["workflowIds"] == [102]  # the spike alert
    assert [c["comparison"] for c in monitor["conditionGroup"]["conditions"]] == [100, 100]
    assert result.id == "101"
    assert result.outs == {
        **PROPS,
        "new_issue_alert_id": "101",
        "spike_alert_id": "102",
        "spike_monitor_id": "103",
    }


def test_a_failed_create_deletes_what_it_made_and_names_the_fix_without_the_token() -> None:
    fake = FakeSentry()
    fake.fail[f"POST {ORG}/projects/mentora-app/detectors/"] = 403
    with pytest.raises(SentryApiError) as caught:
        SentryAlertsProvider(fake.factory()).create(dict(PROPS))
    assert fake.objects == {}  # both alerts deleted again
    deleted = [p for m, p, _, _ in fake.calls if m == "DELETE"]
    assert deleted == [f"{ORG}/workflows/102/", f"{ORG}/workflows/101/"]
    message = str(caught.value)
    assert "403" in message and "alerts:write" in message and TOKEN not in message


def test_a_rejected_token_names_the_secret_to_set() -> None:
    fake = FakeSentry()
    fake.fail[f"GET {ORG}/detectors/"] = 401
    with pytest.raises(SentryApiError) as caught:
        SentryAlertsProvider(fake.factory()).create(dict(PROPS))
    assert "pulumi config set --secret mentora:sentryAlertsToken" in str(caught.value)
    assert TOKEN not in str(caught.value) and fake.objects == {}


def test_update_puts_the_same_bodies_and_a_slug_change_replaces() -> None:
    fake = FakeSentry()
    provider = SentryAlertsProvider(fake.factory())
    olds = provider.create(dict(PROPS)).outs
    news = {**PROPS, "increase_percent": 200}
    diff = provider.diff("101", olds, news)
    assert diff.changes is True and diff.replaces == []
    replaced = provider.diff("101", olds, {**PROPS, "project": "other"})
    assert replaced.replaces == ["project"] and replaced.delete_before_replace is True
    assert provider.diff("101", olds, dict(PROPS)).changes is False
    fake.calls.clear()
    outs = provider.update("101", olds, news).outs
    puts = [p for m, p, _, _ in fake.calls if m == "PUT"]
    assert puts == [f"{ORG}/workflows/101/", f"{ORG}/workflows/102/", f"{ORG}/detectors/103/"]
    (monitor,) = fake.bodies("PUT", "/detectors/103/")
    check_detector(monitor)
    assert [c["comparison"] for c in monitor["conditionGroup"]["conditions"]] == [200, 200]
    assert outs["spike_monitor_id"] == "103" and outs["increase_percent"] == 200


def test_read_reports_gone_rules_and_delete_tolerates_them() -> None:
    fake = FakeSentry()
    provider = SentryAlertsProvider(fake.factory())
    outs = provider.create(dict(PROPS)).outs
    assert provider.read("101", outs).id == "101"
    provider.delete("101", outs)
    assert fake.objects == {}
    assert provider.read("101", outs).id == ""
    provider.delete("101", outs)  # already gone: no error


def test_the_provider_pickles_without_a_client() -> None:
    import pickle

    assert re.search(rb"httpx\.Client", pickle.dumps(SentryAlertsProvider())) is None


class Flaky(FakeSentry):
    """Answers `statuses` (or raises `error`) for the first calls of `key`, then as FakeSentry."""

    def __init__(self, key: str, statuses: list[int], error: Exception | None = None) -> None:
        super().__init__()
        self.key, self.statuses, self.error = key, statuses, error
        self.seen = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if f"{request.method} {request.url.path}" == self.key and self.seen < len(self.statuses):
            self.seen += 1
            self.calls.append((request.method, request.url.path, {}, None))
            if self.error is not None:
                raise self.error
            status = self.statuses[self.seen - 1]
            return httpx.Response(status, headers={"Retry-After": "7"} if status == 429 else {})
        return super().__call__(request)


def test_a_busy_or_failing_api_is_retried_with_bounded_waits() -> None:
    waits: list[float] = []
    fake = Flaky(f"GET {ORG}/detectors/", [503, 502])
    SentryAlertsProvider(fake.factory(), sleep=waits.append).create(dict(PROPS))
    assert fake.seen == 2 and waits == [1.0, 2.0]
    # 429 on a create waits what Retry-After says; nothing was created by the refused call.
    waits.clear()
    busy = Flaky(f"POST {ORG}/workflows/", [429])
    SentryAlertsProvider(busy.factory(), sleep=waits.append).create(dict(PROPS))
    assert waits == [7.0] and len(busy.objects) == 3  # two alerts and the monitor, once each


def test_a_create_that_may_have_happened_is_never_sent_twice() -> None:
    waits: list[float] = []
    fake = Flaky(f"POST {ORG}/workflows/", [500])
    with pytest.raises(SentryApiError) as caught:
        SentryAlertsProvider(fake.factory(), sleep=waits.append).create(dict(PROPS))
    assert fake.seen == 1 and waits == [] and "500" in str(caught.value)
    assert fake.objects == {}


def test_no_answer_gives_up_after_the_last_attempt_naming_the_call() -> None:
    waits: list[float] = []
    fake = Flaky(f"GET {ORG}/detectors/", [0] * 10, error=httpx.ReadTimeout("timed out"))
    with pytest.raises(SentryApiError) as caught:
        SentryAlertsProvider(fake.factory(), sleep=waits.append).create(dict(PROPS))
    assert fake.seen == 4 and waits == [1.0, 2.0, 4.0] and sum(waits) <= 3 * 20
    assert f"GET {ORG}/detectors/ answered nothing" in str(caught.value)
