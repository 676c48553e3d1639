"""ErrorTracker's provider against real Bugsink: create, a real sentry-sdk event arrives and is
found by id through the API, kill, heal (no migration, same DSN and token), delete."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from components.local import error_tracker, ownership, processes
from components.local.error_tracker import ErrorTrackerProvider
from devtools.ports import free_port
from tests.integration.local.conftest import files_containing, kill_hard, port_closes
from tests.integration.local.test_inngest_server import rss_kib


def send_with_sentry_sdk(dsn: str) -> str:
    import sentry_sdk

    client = sentry_sdk.Client(dsn=dsn, default_integrations=False)
    try:
        with sentry_sdk.new_scope() as scope:
            scope.set_client(client)
            event_id = sentry_sdk.capture_message("mentora integration test event")
        client.flush(timeout=5)
    finally:
        client.close()
    assert event_id
    return event_id


def lookup(outs: dict[str, object], event_id: str) -> httpx.Response:
    return httpx.get(
        f"{outs['url']}/api/canonical/0/events/lookup/",
        params={"project": outs["project_id"], "event_id": event_id},
        headers={"Authorization": f"Bearer {outs['api_token']}"},
        timeout=5,
    )


def test_lifecycle_event_arrives_then_kill_heal_delete(state_dir: Path) -> None:
    provider, port = ErrorTrackerProvider(), free_port()
    data_dir = state_dir / "bugsink"
    props = {"port": port, "data_dir": str(data_dir), "team": "mentora", "project": "app"}
    started = time.monotonic()
    outs = provider.create(props).outs
    try:
        print(f"bugsink create (cold, with migrations) took {time.monotonic() - started:.2f}s; "
              f"setup {outs['setup_seconds']}")  # fmt: skip
        assert outs["running"] is True and outs["url"] == f"http://127.0.0.1:{port}"
        assert str(outs["dsn"]).startswith("http://") and f"127.0.0.1:{port}/" in str(outs["dsn"])
        assert files_containing(state_dir, str(outs["admin_password"])) == []  # hashed by Django
        # Bugsink keeps API tokens in clear in its own database (0700 data dir); nowhere else.
        assert files_containing(state_dir, str(outs["api_token"])) == [data_dir / "db.sqlite3"]
        pid = processes.read_pid(data_dir / error_tracker.PID_FILE)
        assert pid is not None
        print(f"bugsink RSS (gunicorn master + worker) {rss_kib(pid) / 1024:.0f} MiB")

        event_id = send_with_sentry_sdk(str(outs["dsn"]))
        found = lookup(outs, event_id)
        assert found.status_code == 200, found.text[:300]
        assert found.json()["event_id"].replace("-", "") == event_id

        assert not error_tracker.probe(port, "0" * 40)  # a wrong token is not an API answer
        kill_hard(pid, group=True)  # a killed master alone leaves its worker serving: not a crash
        read = provider.read(f"bugsink-{port}", outs)
        assert read.outs is not None and read.outs["running"] is False
        diff = provider.diff(read.id or "", read.outs, props)
        assert (diff.changes, diff.replaces) == (True, [])
        started = time.monotonic()
        healed = provider.update(read.id or "", read.outs, props).outs
        print(f"bugsink restart (warm, no migration) took {time.monotonic() - started:.2f}s")
        assert healed == outs
        assert lookup(healed, event_id).status_code == 200  # the SQLite data survived

        new_pid = processes.read_pid(data_dir / error_tracker.PID_FILE)
        provider.delete(f"bugsink-{port}", healed)
        assert not ownership.pid_alive(new_pid)
        assert port_closes(port)
        assert not data_dir.exists()
    finally:  # a failed assertion must not leave the server running
        provider.delete("cleanup", props)
