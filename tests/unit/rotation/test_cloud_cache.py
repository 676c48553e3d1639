"""`rotate <cloud stack> cache` (rotation/cloud_cache.py): the app moved from `default` to ACL
users alternating, both credentials valid until a green gate promoted the app on the new one.

Against an Upstash that enforces its documented ACL rules (cloud_fakes.Upstash: GENTOKEN
passwords only, `default` unchangeable, changes applied to open connections at once) and its
Developer API reset-password (the request itself: test_cloud_upstash.py). The attacker's
questions: a SIGINT after every step, a red or interrupted gate, two rotations; at every ending
the login the production app holds still works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gate.exitcodes import Exit
from rotation import cloud_cache, cloud_driver
from rotation.journal import INTERRUPT_ENV, STEPS, Journal
from rotation.state import unwrap
from tests.unit.rotation.cloud_fakes import DEFAULT_PW, ENDPOINT, OLD, OLD_SECRET, PORT, Backend
from tests.unit.rotation.provider_fakes import Upstash


class World:
    """The backend, Upstash and the production app (it holds the login of the last green gate)."""

    def __init__(self, tmp_path: Path) -> None:
        self.root, self.backend = tmp_path, Backend(OLD, OLD_SECRET)
        self.upstash = Upstash({"default": DEFAULT_PW})
        self.production = ("default", DEFAULT_PW)
        self.gates: list[Exit] = []
        self.said: list[str] = []

    def works(self, user: str, password: str) -> bool:
        return self.upstash.users.get(user) == password

    def gate(self) -> Exit:
        code = self.gates.pop(0) if self.gates else Exit.GREEN
        if code == Exit.GREEN:
            if not self.works(*self.backend.login()):
                return Exit.FAILED
            self.production = self.backend.login()
        return code

    def connect(self, endpoint: str, port: int, user: str, password: str) -> Any:
        assert (endpoint, port) == (ENDPOINT, PORT)
        return self.upstash.client(user, password)

    def rotate(self) -> Exit:
        kind = cloud_cache.UpstashLogin(connect=self.connect, reset=self.upstash.reset_default)
        run = cloud_driver.Run(
            "dev", self.root, self.gate, self.said.append, self.backend.state, drain_s=0
        )
        code = cloud_driver.rotate(run, kind)
        assert self.works(*self.production), "the production app holds a dead login"
        return code

    def settled(self, user: str) -> None:
        assert self.backend.login()[0] == user == self.production[0]
        assert self.works(*self.production)
        assert set(self.upstash.users) == {"default", user}
        assert not Journal("dev", self.root).path.exists()


def test_the_first_rotation_leaves_default_with_a_new_password_the_state_records(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    assert world.rotate() == Exit.GREEN, world.said
    world.settled("mentora_a")
    assert not world.works("default", DEFAULT_PW)  # the app knew it: reset
    database = world.backend.by_type("upstash:index/redisDatabase:RedisDatabase")
    assert unwrap(database["outputs"]["password"]) == world.upstash.users["default"]
    text = "\n".join(world.said)
    assert DEFAULT_PW not in text and world.upstash.users["mentora_a"] not in text
    assert "refuses the old credential of default" in text


def test_the_next_rotation_alternates_and_deletes_the_old_user(tmp_path: Path) -> None:
    world = World(tmp_path)
    assert world.rotate() == Exit.GREEN
    first = world.production
    assert world.rotate() == Exit.GREEN, world.said
    world.settled("mentora_b")
    assert not world.works(*first) and "mentora_a" not in world.upstash.users


@pytest.mark.parametrize("step", [s for s in STEPS if s not in ("switched", "revoked")])
@pytest.mark.parametrize("rotations_before", [0, 1])
def test_a_sigint_after_any_step_then_rotate_again_ends_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, rotations_before: int
) -> None:
    world = World(tmp_path)
    for _ in range(rotations_before):
        assert world.rotate() == Exit.GREEN
    monkeypatch.setenv(INTERRUPT_ENV, step)
    with pytest.raises(KeyboardInterrupt):
        world.rotate()
    assert world.works(*world.production)
    monkeypatch.delenv(INTERRUPT_ENV)
    assert world.rotate() == Exit.GREEN, world.said
    # Undone then rotated again, or finished: one rotation further either way.
    world.settled("mentora_b" if rotations_before else "mentora_a")


@pytest.mark.parametrize("code", [Exit.FAILED, Exit.INTERRUPTED])
def test_a_gate_that_does_not_pass_revokes_nothing(tmp_path: Path, code: Exit) -> None:
    world = World(tmp_path)
    world.gates = [code]
    assert world.rotate() == code
    assert world.production == ("default", DEFAULT_PW) and world.works("default", DEFAULT_PW)
    assert world.works(*world.backend.login())  # the new user too
    assert world.rotate() == Exit.GREEN
    world.settled("mentora_a")
