"""The shared local-server lifecycle (components/local/server_provider.py) over a fake server:
what create, read, diff, update and delete do, with no real process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.local.errors import ALLOW_DATA_LOSS_ENV, DataLossError, PortInUseError
from components.local.server_provider import (
    LocalServerProvider,
    Managed,
    Secrets,
    ServerSettings,
)


@dataclass(frozen=True)
class FakeSettings(ServerSettings):
    flavour: str = "plain"


class FakeServer(LocalServerProvider[FakeSettings]):
    """A 'server' that is a file in its data dir: present = running, `hung` = not ready."""

    SERVICE = "fake"
    SETTINGS = FakeSettings
    RESTART_KEYS = ("flavour",)
    SECRET_KEYS = ("password",)

    def __init__(self, fail_start: bool = False) -> None:
        super().__init__()
        self.fail_start = fail_start
        self.unrepairable = False
        self.calls: list[str] = []

    def new_secrets(self, s: FakeSettings) -> Secrets:
        return {"password": "generated-once"}

    def start(self, s: FakeSettings, keys: Secrets) -> Secrets:
        self.calls.append("start")
        if self.fail_start:
            raise RuntimeError("cannot start")
        (s.data_dir / "running").write_text(keys["password"])
        (s.data_dir / "limit").unlink(missing_ok=True)  # a start applies every setting
        return keys

    def record_started(self, s: FakeSettings) -> None:
        pass  # no process to record

    def stop(self, s: FakeSettings, grace_s: float = 10.0) -> None:
        self.calls.append("stop" if grace_s else "kill")
        (s.data_dir / "running").unlink(missing_ok=True)
        (s.data_dir / "hung").unlink(missing_ok=True)  # a killed process hangs no more

    def probe(self, s: FakeSettings, keys: Secrets) -> bool:
        marker = s.data_dir / "running"
        return marker.exists() and not (s.data_dir / "hung").exists()

    def outputs(self, s: FakeSettings, keys: Secrets) -> dict[str, Any]:
        return {"url": f"fake://{s.port}"}

    def observe(self, s: FakeSettings, keys: Secrets) -> Managed:
        # The fake listens nowhere: its managed settings live in files of its data dir.
        running = (s.data_dir / "running").exists()
        return {"listen": f"127.0.0.1:{s.port}" if running else "nothing listens", **self.knobs(s)}

    def expected(self, s: FakeSettings, keys: Secrets) -> Managed:
        return {**super().expected(s, keys), "limit": "10"}

    @staticmethod
    def knobs(s: FakeSettings) -> Managed:
        path = s.data_dir / "limit"
        return {"limit": path.read_text() if path.exists() else "10"}

    def repair(self, s: FakeSettings, keys: Secrets, drifted: Managed) -> bool:
        self.calls.append("repair")
        if "listen" in drifted or self.unrepairable:
            return False
        (s.data_dir / "limit").unlink(missing_ok=True)
        return True


def props(state_dir: Path, **extra: Any) -> dict[str, Any]:
    return {"port": 6001, "data_dir": str(state_dir / "fake"), **extra}


def test_create_claims_the_folder_starts_and_reports_outputs(state_dir: Path) -> None:
    server = FakeServer()
    result = server.create(props(state_dir))
    assert result.id == "fake-6001"
    assert result.outs["password"] == "generated-once" and result.outs["url"] == "fake://6001"
    assert result.outs["running"] is True and (state_dir / "fake" / ".mentora-local").exists()
    assert (state_dir / "fake").stat().st_mode & 0o777 == 0o700


def test_a_failed_start_stops_what_it_started_and_raises(state_dir: Path) -> None:
    server = FakeServer(fail_start=True)
    with pytest.raises(RuntimeError, match="cannot start"):
        server.create(props(state_dir))
    # The first kill is the orphan check of every create (an own server outside state); a
    # server that did not become ready is killed, not asked to stop.
    assert server.calls == ["kill", "start", "kill"]


def test_a_taken_port_is_refused_before_the_folder_is_touched(
    state_dir: Path, taken_port: int
) -> None:
    with pytest.raises(PortInUseError, match="set mentora:fakePort here"):
        FakeServer().create(
            props(state_dir, port=taken_port, hints={"port": "mentora:fakePort here"})
        )
    assert not (state_dir / "fake").exists()


def test_a_hung_server_is_read_as_not_running_and_update_restarts_it_keeping_secrets(
    state_dir: Path,
) -> None:
    server = FakeServer()
    outs = server.create(props(state_dir)).outs
    (state_dir / "fake" / "hung").write_text("")
    read = server.read("fake-6001", outs)
    assert read.outs["running"] is False
    assert server.diff("fake-6001", read.outs, props(state_dir)).changes is True
    server.calls.clear()
    updated = server.update("fake-6001", read.outs, props(state_dir)).outs
    assert server.calls == ["kill", "start"]  # a hung server cannot honour a graceful stop
    assert updated["password"] == "generated-once" and updated["running"] is True
    assert server.probe(server.settings(updated), {"password": "generated-once"})


def test_a_server_refresh_found_not_ready_is_killed_without_waiting_on_a_second_probe(
    state_dir: Path,
) -> None:
    server = FakeServer()
    outs = server.create(props(state_dir)).outs
    server.calls.clear()
    probes: list[str] = []
    server.probe = lambda s, keys: probes.append("probe") or True  # type: ignore[method-assign]
    server.update("fake-6001", {**outs, "running": False}, props(state_dir))
    assert (probes, server.calls) == ([], ["kill", "start"])
    server.calls.clear()
    server.update("fake-6001", outs, props(state_dir))  # found ready: probed once, left alone
    assert (probes, server.calls) == (["probe"], [])


def test_a_ready_server_with_unchanged_settings_is_not_restarted(state_dir: Path) -> None:
    server = FakeServer()
    outs = server.create(props(state_dir)).outs
    assert server.diff("fake-6001", outs, {**props(state_dir), "port": 6001.0}).changes is False
    server.calls.clear()
    server.update("fake-6001", outs, props(state_dir))
    assert server.calls == []
    server.update("fake-6001", outs, props(state_dir, flavour="spicy"))
    assert server.calls == ["stop", "start"]


def test_read_of_a_vanished_folder_reports_gone_and_delete_removes_it(state_dir: Path) -> None:
    server = FakeServer()
    outs = server.create(props(state_dir)).outs
    server.delete("fake-6001", outs)
    assert not (state_dir / "fake").exists() and server.calls[-1] == "stop"
    assert server.read("fake-6001", outs).id == ""


def test_settings_are_parsed_once_into_their_types(state_dir: Path) -> None:
    settings = FakeServer().settings({**props(state_dir), "port": 6001.0, "running": True})
    assert settings == FakeSettings(port=6001, data_dir=state_dir / "fake", hints={})


class HoldingServer(FakeServer):
    """A fake server whose data a replacement would lose."""

    HOLDS = "every fake record"


def test_a_new_port_moves_the_server_with_its_data(state_dir: Path) -> None:
    server = HoldingServer()
    outs = server.create(props(state_dir)).outs
    (state_dir / "fake" / "data").write_text("kept")
    diff = server.diff("fake-6001", outs, props(state_dir, port=6002))
    assert (diff.changes, diff.replaces) == (True, [])
    server.calls.clear()
    moved = server.update("fake-6001", outs, props(state_dir, port=6002)).outs
    assert server.calls == ["stop", "start"] and moved["url"] == "fake://6002"
    assert (state_dir / "fake" / "data").read_text() == "kept"


def test_a_change_that_would_lose_data_is_refused_naming_it_unless_allowed(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = HoldingServer()
    outs = server.create(props(state_dir, hints={"data_dir": "mentora:stateDir"})).outs
    news = props(state_dir / "elsewhere", hints={"data_dir": "mentora:stateDir"})
    with pytest.raises(DataLossError) as err:
        server.diff("fake-6001", outs, news)
    message = str(err.value)
    assert message.startswith("fake: changing data_dir ")
    assert "lose every fake record in " in message and "nothing was changed" in message
    assert "Set mentora:stateDir back" in message and "--allow-data-loss" in message
    monkeypatch.setenv(ALLOW_DATA_LOSS_ENV, "1")
    assert server.diff("fake-6001", outs, news).replaces == ["data_dir"]
    # A server that holds nothing worth keeping (its log) is replaced without asking.
    monkeypatch.delenv(ALLOW_DATA_LOSS_ENV)
    assert FakeServer().diff("fake-6001", outs, news).replaces == ["data_dir"]


def test_read_reports_a_managed_setting_changed_out_of_band_and_update_repairs_it_in_place(
    state_dir: Path,
) -> None:
    server = FakeServer()
    outs = server.create(props(state_dir)).outs
    assert outs["managed"] == outs["observed"] == {"listen": "127.0.0.1:6001", "limit": "10"}
    (state_dir / "fake" / "limit").write_text("99")  # changed out of band
    read = server.read("fake-6001", outs).outs
    assert read["observed"]["limit"] == "99" and read["managed"]["limit"] == "10"
    assert read["running"] is True
    assert server.drifted(read, server.settings(props(state_dir))) == {"limit": "10"}
    assert server.diff("fake-6001", read, props(state_dir)).changes is True
    server.calls.clear()
    updated = server.update("fake-6001", read, props(state_dir)).outs
    assert server.calls == ["repair"]  # in place: no stop, no start
    assert updated["observed"] == updated["managed"]
    assert (
        server.diff("fake-6001", server.read("fake-6001", updated).outs, props(state_dir)).changes
        is False
    )


def test_a_drift_repair_cannot_fix_in_place_restarts_the_server_gracefully(state_dir: Path) -> None:
    server = FakeServer()
    outs = server.create(props(state_dir)).outs
    (state_dir / "fake" / "limit").write_text("99")
    read = server.read("fake-6001", outs).outs
    server.unrepairable = True
    server.calls.clear()
    updated = server.update("fake-6001", read, props(state_dir)).outs
    assert server.calls == ["repair", "stop", "start"]  # graceful: its data is flushed
    assert updated["observed"]["limit"] == "10" and updated["password"] == "generated-once"


def test_a_state_recorded_before_settings_were_managed_is_recorded_and_repaired_at_once(
    state_dir: Path,
) -> None:
    server = FakeServer()
    outs = server.create(props(state_dir)).outs
    older = {k: v for k, v in outs.items() if k not in ("managed", "observed")}
    (state_dir / "fake" / "limit").write_text("99")  # as an older program left it
    read = server.read("fake-6001", older).outs
    assert "observed" not in read  # nothing recorded to compare with yet
    assert server.diff("fake-6001", read, props(state_dir)).changes is True
    server.calls.clear()
    updated = server.update("fake-6001", read, props(state_dir)).outs
    assert server.calls == ["repair"]  # recorded and repaired in the same update, no restart
    assert updated["managed"] == updated["observed"] == {"listen": "127.0.0.1:6001", "limit": "10"}
    again = server.read("fake-6001", updated).outs
    assert server.diff("fake-6001", again, props(state_dir)).changes is False
