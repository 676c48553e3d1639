"""BugsinkProject's provider against a real Bugsink (a base stack's): two review stacks'
projects, each DSN's event in its own project only; a retried create keeps the project; delete
through Bugsink's console (its API cannot) leaves the project gone from the API; a refresh then
reports it gone."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from components.local.bugsink_api import Tracker
from components.local.bugsink_tenant import BugsinkProjectProvider
from components.local.error_tracker import ErrorTrackerProvider
from devtools.ports import free_port
from tests.integration.local.test_error_tracker import send_with_sentry_sdk


def found_in(url: str, token: str, project_id: str, event_id: str) -> int:
    """The lookup's status for `event_id` in `project_id`, once the event had time to arrive."""
    answer = httpx.Response(404)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        answer = httpx.get(
            f"{url}/api/canonical/0/events/lookup/",
            params={"project": project_id, "event_id": event_id},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        if answer.status_code == 200:
            break
        time.sleep(0.3)
    return answer.status_code


def test_projects_side_by_side_then_deleted_through_the_console(state_dir: Path) -> None:
    tracker, port = ErrorTrackerProvider(), free_port()
    base = tracker.create({"port": port, "data_dir": str(state_dir / "errors")}).outs
    assert base is not None
    try:
        shared = {"url": base["url"], "token": base["api_token"],
                  "admin_password": base["admin_password"], "team": "mentora"}  # fmt: skip
        provider = BugsinkProjectProvider()
        one = provider.create({**shared, "name": "mentora-app-pr-1"})
        two = provider.create({**shared, "name": "mentora-app-pr-2"})
        assert one.outs and two.outs and one.outs["dsn"] != two.outs["dsn"]
        assert {one.id, two.id}.isdisjoint({str(base["project_id"])})
        event = send_with_sentry_sdk(one.outs["dsn"])
        assert found_in(base["url"], base["api_token"], one.id, event) == 200
        assert found_in(base["url"], base["api_token"], two.id, event) == 404  # not pr-2's

        again = provider.create({**shared, "name": "mentora-app-pr-1"})  # a retried up
        assert again.id == one.id and again.outs and again.outs["dsn"] == one.outs["dsn"]

        # The base's Bugsink moved (a new address, its projects with it): an update that finds
        # the project there again, with the DSN Bugsink gives now (its BASE_URL's address).
        moved = {**one.outs, "url": base["url"].replace("127.0.0.1", "localhost")}
        diff = provider.diff(one.id, one.outs, moved)
        assert diff.changes and not diff.replaces
        at_new = provider.update(one.id, one.outs, moved).outs
        assert at_new["project_id"] == one.id and at_new["url"] == moved["url"]
        assert at_new["dsn"] == one.outs["dsn"]  # same BASE_URL: the same DSN

        provider.delete(one.id, one.outs)
        view = Tracker(base["url"], base["api_token"])
        assert view.project_id("mentora-app-pr-1") is None
        auth = {"Authorization": f"Bearer {base['api_token']}"}
        url = f"{base['url']}/api/canonical/0/projects/{one.id}/"
        detail = httpx.get(url, headers=auth, timeout=5)
        assert detail.status_code == 404
        assert provider.read(one.id, one.outs).id == ""
        assert provider.read(two.id, two.outs).id == two.id  # the other stack's is untouched
    finally:
        tracker.delete("errors", base)
