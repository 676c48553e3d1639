"""The rotation's order, with fakes for the state, the app switch and one credential kind: the
old credential is revoked only after the app switched and smoke passed; a failed smoke puts the
old state back and revokes the new credential; an app that does not switch stops the rotation
with the old credential untouched; reconcile says whether it finished or undid a rotation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.app_secrets import FINGERPRINT_NAME, fingerprint
from rotation import engine
from rotation.journal import Entry, Journal
from rotation.kinds import Created
from rotation.switch import SwitchFailed


class FakeState:
    """Holds one env; `save` records which env the 'state' names."""

    saved: list[str] = []

    def __init__(self, stack: str, root: Path) -> None:
        self.stack, self.root = stack, root
        env = {"REDIS_URL": "redis://:old@h/0"}
        self.document: dict[str, Any] = {"env": {**env, FINGERPRINT_NAME: fingerprint(env)}}

    def load(self) -> FakeState:
        return self

    def env(self) -> dict[str, str]:
        return dict(self.document["env"])

    def replace(self, pairs: dict[str, str]) -> None:
        env = {k: v.replace("old", pairs["old"]) for k, v in self.env().items()}
        env[FINGERPRINT_NAME] = fingerprint(env)
        self.document["env"] = env

    def set_output(self, *_args: str) -> None:
        raise AssertionError("not used by the fake kind")

    def save(self) -> None:
        FakeState.saved.append(self.env()["REDIS_URL"])


class FakeKind:
    name = "cache"

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def create(self, state: Any) -> Created:
        self.log.append("create")
        return Created("cache", {"old": "new"}, {"password": "old"})

    def revoke_others(self, state: Any) -> list[str]:
        self.log.append(f"revoke-all-but:{state.env()['REDIS_URL']}")
        return []

    def refused(self, state: Any, old: dict[str, str]) -> str:
        self.log.append("refused")
        return "WRONGPASS"


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    events: list[str] = []
    FakeState.saved = []
    monkeypatch.setattr(engine, "StackState", FakeState)
    monkeypatch.setattr(engine, "kinds", lambda: {"cache": FakeKind(events)})
    monkeypatch.setattr(engine, "DRAIN_S", 0.0)
    monkeypatch.setattr(
        engine, "switch", lambda state: events.append(f"switch:{state.env()['REDIS_URL']}")
    )
    return events


def test_old_is_revoked_only_after_switch_and_smoke(log: list[str], tmp_path: Path) -> None:
    smoked: list[str] = []
    outcome = engine.rotate("local", tmp_path, ["cache"], lambda: not smoked.append(log[-1]), print)
    assert outcome.ok and outcome.refused == ["WRONGPASS"]
    assert log == [
        "create",
        "switch:redis://:new@h/0",
        "revoke-all-but:redis://:new@h/0",
        "refused",
    ]
    assert smoked == ["switch:redis://:new@h/0"] and FakeState.saved == ["redis://:new@h/0"]
    assert Journal("local", tmp_path).read() is None


def test_a_failed_smoke_puts_the_old_back_and_revokes_the_new(
    log: list[str], tmp_path: Path
) -> None:
    outcome = engine.rotate("local", tmp_path, ["cache"], lambda: False, print)
    assert not outcome.ok
    assert FakeState.saved == ["redis://:new@h/0", "redis://:old@h/0"]
    assert log[-2:] == ["switch:redis://:old@h/0", "revoke-all-but:redis://:old@h/0"]
    assert "refused" not in log


def test_an_app_that_does_not_switch_leaves_the_old_credential_alone(
    log: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stuck(_state: Any) -> None:
        raise SwitchFailed("app: still reports the old config")

    monkeypatch.setattr(engine, "switch", stuck)
    with pytest.raises(SwitchFailed):
        engine.rotate("local", tmp_path, ["cache"], lambda: True, print)
    assert log == ["create"]  # nothing revoked
    assert Journal("local", tmp_path).read().step == "saved"  # type: ignore[union-attr]


def test_reconcile_finishes_after_saved_and_undoes_before(log: list[str], tmp_path: Path) -> None:
    journal = Journal("local", tmp_path)
    journal.record(Entry(kinds=["cache"], after="not-the-state's"), "created")
    said: list[str] = []
    engine.reconcile("local", tmp_path, said.append)
    assert "undone" in said[0] and journal.read() is None
    state_fp = FakeState("local", tmp_path).env()[FINGERPRINT_NAME]
    journal.record(Entry(kinds=["cache"], after=state_fp), "saved")
    engine.reconcile("local", tmp_path, said.append)
    assert "finished" in said[1]
    assert log[-2:] == ["switch:redis://:old@h/0", "revoke-all-but:redis://:old@h/0"]
