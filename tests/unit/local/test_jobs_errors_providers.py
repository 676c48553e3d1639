"""The Dev Server and error tracker providers without a server: refusals before any side effect,
diff, read, pickling, a missing tool named with the command that builds it, a fast fail."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from components.local import go_tools
from components.local.error_tracker import ErrorTrackerProvider
from components.local.errors import LocalServerError, PortInUseError, UnsafePathError
from components.local.inngest_server import InngestDevServerProvider

PROVIDERS: dict[str, tuple[type[ResourceProvider], str, dict[str, Any]]] = {
    "jobs": (
        InngestDevServerProvider,
        "inngestPort",
        {"app_url": "http://127.0.0.1:3000/api/inngest"},
    ),
    "errors": (ErrorTrackerProvider, "errorTrackerPort", {"team": "mentora", "project": "app"}),
}


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


def test_unsafe_data_dir_is_refused(
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
    case: tuple[str, ResourceProvider, str, dict[str, Any]], state_dir: Path
) -> None:
    service, provider, _key, extra = case
    news = {"port": 6001, "data_dir": str(state_dir / "x"), **extra}
    olds = {**news, "port": 6001.0, "running": True, "__provider": "pickled"}
    assert (provider.diff("id", olds, news).changes, provider.diff("id", olds, news).replaces) == (
        False,
        [],
    )
    dead = provider.diff("id", {**olds, "running": False}, news)
    assert (dead.changes, dead.replaces) == (True, [])
    moved = provider.diff("id", olds, {**news, "port": 6002})
    assert (moved.changes, moved.replaces, moved.delete_before_replace) == (True, ["port"], True)
    for key in extra:
        changed = provider.diff("id", olds, {**news, key: "other"})
        # The Dev Server restarts on a new app URL; the tracker's team/project are its identity.
        assert changed.changes and changed.replaces == ([] if service == "jobs" else [key])


def test_read_of_a_vanished_data_dir_reports_the_resource_gone(
    case: tuple[str, ResourceProvider, str, dict[str, Any]], state_dir: Path
) -> None:
    _service, provider, _key, extra = case
    props = {"port": 6001, "data_dir": str(state_dir / "gone"), "running": True, **extra}
    assert (provider.read("x", props).id, provider.read("x", props).outs) == ("", {})


def test_providers_survive_pulumis_pickling(
    case: tuple[str, ResourceProvider, str, dict[str, Any]],
) -> None:
    assert len(serialize_provider(case[1])) < 50_000


def test_a_missing_dev_server_build_names_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MENTORA_TOOLS_DIR", str(tmp_path))
    with pytest.raises(LocalServerError) as err:
        go_tools.tool_binary("jobs", "inngest", "github.com/inngest/inngest", "inngest")
    assert str(err.value) == (
        f"jobs: {tmp_path}/inngest-v1.0.0/bin/inngest is missing; build it: "
        "scripts/install-go-tool.sh inngest (scripts/bootstrap.sh does it too)"
    )
    assert go_tools.pinned_version("toxiproxy", "github.com/Shopify/toxiproxy/v2") == "v2.12.0"


def test_a_dev_server_that_dies_at_start_fails_fast_and_keeps_its_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, state_dir: Path
) -> None:
    import socket

    from components.local.errors import ServerStartError

    binary = tmp_path / "inngest-v1.0.0" / "bin" / "inngest"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\necho 'bind: address already in use' >&2\nexit 1\n")
    binary.chmod(0o755)
    monkeypatch.setenv("MENTORA_TOOLS_DIR", str(tmp_path))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    data_dir = state_dir / "inngest"
    props = {"port": port, "data_dir": str(data_dir), "app_url": "http://127.0.0.1:1/api/inngest"}
    started = time.monotonic()
    with pytest.raises(ServerStartError, match=f"jobs: the Inngest Dev Server exited .*{data_dir}"):
        InngestDevServerProvider().create(props)
    assert time.monotonic() - started < 5
    assert "address already in use" in (data_dir / "inngest.log").read_text()
