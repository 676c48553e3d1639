"""`weed mini`'s command line keeps every listener on loopback at a port we chose, sends no
telemetry, and the identities file denies anonymous access (flags: weed/command/mini.go;
identities: docker/compose/s3.json, both of github.com/seaweedfs/seaweedfs at VERSION)."""

from __future__ import annotations

from pathlib import Path

from devtools.seaweedfs import APP_ACTIONS, PORT_FLAGS, WeedMini


def weed() -> WeedMini:
    return WeedMini(Path("/opt/weed"), Path("/state/storage"), "mentora-videos")


def test_every_listener_is_ours_and_on_loopback() -> None:
    mini = weed()
    flags = dict(arg.removeprefix("-").split("=", 1) for arg in mini.command()[2:])
    assert {flag: int(flags[flag]) for flag in PORT_FLAGS} == mini.ports
    assert len(set(mini.ports.values())) == len(PORT_FLAGS)
    assert flags["ip"] == flags["ip.bind"] == "127.0.0.1"
    # Off: what would listen on a fixed port or call out to the internet.
    assert flags["master.telemetry"] == flags["webdav"] == flags["admin.ui"] == "false"
    assert flags["admin.port.legacy"] == flags["s3.port.iceberg"] == flags["s3.port.lance"] == "0"
    assert flags["dir"] == "/state/storage" and flags["bucket"] == "mentora-videos"
    assert mini.endpoint == f"http://127.0.0.1:{mini.ports['s3.port']}"


def test_identities_have_no_anonymous_entry_and_scope_the_app_to_its_bucket() -> None:
    mini = weed()
    identities = mini.identities()["identities"]
    assert [i["name"] for i in identities] == ["admin", "mentora-app"]
    app = identities[1]
    assert app["credentials"] == [{"accessKey": mini.app_key[0], "secretKey": mini.app_key[1]}]
    assert app["actions"] == [f"{action}:mentora-videos" for action in APP_ACTIONS]
    assert mini.app_key != mini.admin_key
