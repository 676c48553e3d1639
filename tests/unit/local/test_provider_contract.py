"""The local server providers without a server: refusals before any side effect, diff and read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from components.local.error_tracker import ErrorTrackerProvider
from components.local.errors import (
    ALLOW_DATA_LOSS_ENV,
    DataLossError,
    PortInUseError,
    UnsafePathError,
)
from components.local.inngest_server import InngestDevServerProvider
from components.local.postgres_server import PostgresProvider
from components.local.redis_server import RedisProvider
from components.local.s3_server import S3Provider
from components.local.watch_server import WatchServerProvider

PROVIDERS: dict[str, tuple[type[ResourceProvider], str, dict[str, Any]]] = {
    "postgres": (PostgresProvider, "postgresPort", {"database": "mentora", "app_user": "app"}),
    "redis": (RedisProvider, "redisPort", {}),
    "storage": (S3Provider, "storagePort", {"bucket": "videos", "region": "eu-west-1"}),
    "jobs": (
        InngestDevServerProvider,
        "inngestPort",
        {"app_url": "http://127.0.0.1:3000/api/inngest"},
    ),
    "errors": (ErrorTrackerProvider, "errorTrackerPort", {"team": "mentora", "project": "app"}),
    "watch": (
        WatchServerProvider,
        "watchPort",
        {"stack": "local", "every_s": 10, "repo": "/srv/mentora", "outputs": {"target": "local"}},
    ),
}
# Settings a change of which restarts the server in place instead of replacing it.
RESTART_SETTINGS = {"app_url", "stack", "every_s", "repo", "outputs"}


@pytest.fixture(params=sorted(PROVIDERS))
def case(request: pytest.FixtureRequest) -> tuple[str, ResourceProvider, str, dict[str, Any]]:
    service = str(request.param)
    cls, key, extra = PROVIDERS[service]
    return service, cls(), key, extra


def test_port_in_use_is_refused_before_anything_is_created(
    case: tuple[str, ResourceProvider, str, dict[str, Any]], taken_port: int, state_dir: Path
) -> None:
    service, provider, key, extra = case
    data_dir = state_dir / service
    hints = {"port": f"mentora:{key} in Pulumi.local.yaml"}  # what stacks/ passes in
    with pytest.raises(PortInUseError) as err:
        provider.create({"port": taken_port, "data_dir": str(data_dir), "hints": hints, **extra})
    assert str(err.value) == (
        f"{service}: port {taken_port} on 127.0.0.1 is already in use; stop what holds it or "
        f"set mentora:{key} in Pulumi.local.yaml to a free port"
    )
    assert not data_dir.exists()


def test_unsafe_data_dir_is_refused_before_anything_is_created(
    case: tuple[str, ResourceProvider, str, dict[str, Any]], state_dir: Path
) -> None:
    service, provider, _key, extra = case
    foreign = state_dir / "not-ours"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    hints = {"data_dir": "mentora:stateDir in Pulumi.local.yaml"}
    for data_dir in ("relative/dir", str(foreign)):
        with pytest.raises(UnsafePathError, match=f"^{service}: data dir .*mentora:stateDir"):
            provider.create({"port": 1, "data_dir": data_dir, "hints": hints, **extra})
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_diff_replaces_on_identity_and_updates_a_dead_server(
    case: tuple[str, ResourceProvider, str, dict[str, Any]],
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _service, provider, _key, extra = case
    news = {"port": 6001, "data_dir": str(state_dir / "x"), **extra}
    managed = provider.expected(provider.settings(news), {})  # type: ignore[attr-defined]
    recorded = {**news, "port": 6001.0, "running": True, "__provider": "pickled"}
    olds = {**recorded, "managed": managed, "observed": managed}
    same = provider.diff("id", olds, news)
    assert (same.changes, same.replaces) == (False, [])
    # A state recorded before settings were managed: one update records them.
    assert provider.diff("id", recorded, news).changes is True
    dead = provider.diff("id", {**olds, "running": False}, news)
    assert (dead.changes, dead.replaces) == (True, [])
    moved = provider.diff("id", olds, {**news, "port": 6002})  # a move, keeping the data
    assert (moved.changes, moved.replaces) == (True, [])
    for key in extra:
        # Another value of the setting's own type (settings are parsed before they are compared).
        other = news[key] + 1 if isinstance(news[key], int) else "other"
        news_key = {**news, key: other}
        if key in RESTART_SETTINGS or not provider.HOLDS:
            changed = provider.diff("id", olds, news_key)
            assert changed.changes
            assert changed.replaces == ([] if key in RESTART_SETTINGS else [key])
        else:  # a new identity would lose the server's data: refused, unless allowed
            with pytest.raises(DataLossError, match=f"changing {key} "):
                provider.diff("id", olds, news_key)
            with monkeypatch.context() as allowed:
                allowed.setenv(ALLOW_DATA_LOSS_ENV, "1")
                assert provider.diff("id", olds, news_key).replaces == [key]


def test_read_of_a_vanished_data_dir_reports_the_resource_gone(
    case: tuple[str, ResourceProvider, str, dict[str, Any]], state_dir: Path
) -> None:
    _service, provider, _key, extra = case
    props = {"port": 6001, "data_dir": str(state_dir / "gone"), "running": True, **extra}
    result = provider.read("server-6001", props)
    assert (result.id, result.outs) == ("", {})


def test_providers_survive_pulumis_pickling(
    case: tuple[str, ResourceProvider, str, dict[str, Any]],
) -> None:
    # The engine stores the provider dill-pickled in the state; it must not capture clients.
    assert len(serialize_provider(case[1])) < 50_000


def test_a_server_that_dies_at_start_fails_fast_and_keeps_its_log(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import sys
    import time

    from components.local.errors import ServerStartError

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the store's process exits at once
    data_dir = state_dir / "s3"
    props = {"port": port, "data_dir": str(data_dir), "bucket": "videos", "region": "eu-west-1"}
    started = time.monotonic()
    with pytest.raises(ServerStartError, match=f"storage: the S3 store exited .*see {data_dir}"):
        S3Provider().create(props)
    assert time.monotonic() - started < 5
    assert (data_dir / "moto.log").exists()  # kept for diagnosis; a new create empties it


def test_a_stale_pid_file_never_gets_another_process_killed(
    case: tuple[str, ResourceProvider, str, dict[str, Any]], state_dir: Path
) -> None:
    import subprocess

    from components.local import (
        app_process,
        error_tracker,
        inngest_server,
        postgres_server,
        redis_server,
        s3_server,
        watch_server,
    )

    service, provider, _key, extra = case
    pid_files = {
        "postgres": postgres_server.PID_FILE,
        "redis": redis_server.PID_FILE,
        "storage": s3_server.PID_FILE,
        "app": app_process.PID_FILE,
        "jobs": inngest_server.PID_FILE,
        "errors": error_tracker.PID_FILE,
        "watch": watch_server.PID_FILE,
    }
    data_dir = state_dir / service
    (data_dir / pid_files[service]).parent.mkdir(parents=True)
    (data_dir / "pgdata").mkdir(exist_ok=True)
    (data_dir / ".mentora-local").write_text("ours")
    bystander = subprocess.Popen(["sleep", "30"])  # an unrelated process that got the pid
    try:
        (data_dir / pid_files[service]).write_text(f"{bystander.pid}\n")
        props = {"port": 6001, "data_dir": str(data_dir), **extra}
        provider.delete(f"{service}-6001", props)  # what `pulumi destroy` runs
        assert bystander.poll() is None, f"{service}: delete killed an unrelated process"
        assert not data_dir.exists()
    finally:
        bystander.kill()
        bystander.wait()
