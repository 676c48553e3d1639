"""`rotate <cloud stack> storage` (rotation/cloud_storage.py): the app's IAM key replaced with
both keys valid until a green gate has promoted the app on the new one.

The rotation's states walked against an IAM that keeps keys (cloud_fakes.Iam), with the
attacker's questions: a SIGINT after every step, a kill between the state's save and the
journal, a red or interrupted gate, a stranger's key, two rotations in a row; at every ending
the key the production app holds still works. The requests themselves are checked against
IAM's and STS's models in test_cloud_storage_contract.py.
"""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

import pytest

from gate.exitcodes import Exit
from rotation import cloud_driver, cloud_storage
from rotation.journal import INTERRUPT_ENV, STEPS, Journal
from tests.unit.rotation.cloud_fakes import OLD, OLD_SECRET, Backend
from tests.unit.rotation.provider_fakes import Iam


class World:
    """The backend, IAM and the production app: the app holds the key of the last green gate."""

    def __init__(self, tmp_path: Path) -> None:
        self.root, self.iam, self.backend = tmp_path, Iam(), Backend(OLD, OLD_SECRET)
        self.production = (OLD, OLD_SECRET)
        self.gates: list[Exit] = []
        self.said: list[str] = []
        self.overwritten_by: dict[str, Any] | None = None
        """A state another machine's update writes over this one's while the gate runs."""

    def gate(self) -> Exit:
        if self.overwritten_by is not None:
            self.backend.document, self.overwritten_by = self.overwritten_by, None
        code = self.gates.pop(0) if self.gates else Exit.GREEN
        if code == Exit.GREEN:
            key = self.backend.key()
            if not self.iam.works(*key):
                return Exit.FAILED  # smoke against the new deployment would fail
            self.production = key  # promoted only after a green smoke
        return code

    def rotate(self) -> Exit:
        kind = cloud_storage.StorageKey(
            iam=self.iam, sts_for=self.iam.sts_for, settle_s=1, sleep=lambda _s: None
        )
        run = cloud_driver.Run(
            "dev", self.root, self.gate, self.said.append, self.backend.state, drain_s=0
        )
        code = cloud_driver.rotate(run, kind)
        assert self.iam.works(*self.production), "the production app holds a dead key"
        return code

    def settled(self) -> None:
        """One key left: the state's, the app's, and it works."""
        assert list(self.iam.keys) == [self.backend.key()[0]]
        assert self.production == self.backend.key() and self.iam.works(*self.production)
        assert not Journal("dev", self.root).path.exists()


@pytest.mark.parametrize("step", [s for s in STEPS if s != "revoked"])
def test_a_sigint_after_any_step_then_rotate_again_ends_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    world = World(tmp_path)
    monkeypatch.setenv(INTERRUPT_ENV, step)
    if step == "switched":  # no such step in a cloud rotation: it runs to the end
        assert world.rotate() == Exit.GREEN
    else:
        with pytest.raises(KeyboardInterrupt):
            world.rotate()
        assert world.iam.works(*world.production)
    monkeypatch.delenv(INTERRUPT_ENV)
    assert world.rotate() == Exit.GREEN, world.said
    world.settled()
    assert world.production != (OLD, OLD_SECRET)
    assert not world.iam.works(OLD, OLD_SECRET)  # the first key is retired either way


@pytest.mark.parametrize("code", [Exit.FAILED, Exit.ROLLED_BACK, Exit.INTERRUPTED])
def test_a_gate_that_does_not_pass_revokes_nothing_and_the_next_rotate_finishes(
    tmp_path: Path, code: Exit
) -> None:
    world = World(tmp_path)
    world.gates = [code]
    assert world.rotate() == code
    assert world.production == (OLD, OLD_SECRET) and len(world.iam.keys) == 2
    assert all(k["Status"] == "Active" for k in world.iam.keys.values())
    assert Journal("dev", tmp_path).read().step == "saved"  # type: ignore[union-attr]
    assert "nothing was revoked" in world.said[-1]
    assert world.rotate() == Exit.GREEN
    world.settled()
    assert world.iam.made == 1  # finished, not started again


def test_two_rotations_in_a_row_alternate_within_iams_two_keys(tmp_path: Path) -> None:
    world = World(tmp_path)
    assert world.rotate() == Exit.GREEN and world.rotate() == Exit.GREEN
    world.settled()
    assert world.iam.made == 2


def test_an_unrelated_active_second_key_stops_the_rotation_before_anything(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.iam.keys["AKIASTRANGER00000000"] = {
        "secret": "s" * 40,
        "Status": "Active",
        "CreateDate": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    }
    with pytest.raises(Exception, match="two active access keys"):
        world.rotate()
    assert world.backend.saves == 0 and world.iam.made == 0
    assert "AKIASTRANGER00000000" in world.iam.keys


def test_killed_after_the_state_was_saved_but_before_the_journal_said_so(tmp_path: Path) -> None:
    """A SIGKILL between `pulumi stack import` and the journal's `saved`: the journal says
    `created`, the state already names the new key. Undoing would delete the state's key; the
    next rotate sees the state's key is the rotation's own and finishes instead."""
    world = World(tmp_path)
    world.backend.killed_after_save = True
    with pytest.raises(SystemExit):
        world.rotate()
    assert Journal("dev", tmp_path).read().step == "created"  # type: ignore[union-attr]
    world.backend.killed_after_save = False
    assert world.rotate() == Exit.GREEN, world.said
    world.settled()
    assert world.iam.made == 1


def test_an_update_elsewhere_that_wrote_over_the_rotation_removes_only_the_new_key(
    tmp_path: Path,
) -> None:
    """CI's deploy on another machine (its own gate lock, Pulumi's stack lock only for the
    update) ended after this rotation's `stack import` and wrote its own state: the app was
    deployed with the old key. Retiring "every key but the state's" would then look right but
    the rotation would claim a switch that did not happen: it removes the new key instead and
    fails, and the app's key is never touched."""
    world = World(tmp_path)
    world.overwritten_by = copy.deepcopy(world.backend.document)
    assert world.rotate() == Exit.FAILED
    assert "wrote over this rotation" in world.said[-1]
    assert list(world.iam.keys) == [OLD] and world.production == (OLD, OLD_SECRET)
    assert not Journal("dev", tmp_path).path.exists()
    assert world.rotate() == Exit.GREEN  # and a rotation after it works
    world.settled()
