"""Finding 3 of issue 19: two gates at once. One gate per stack: the second exits BUSY naming
the first and changes nothing; Pulumi's own lock conflict is never a failed deploy; only
`release` lifts a hold. Real gate CLI, fake `pulumi` (tests/unit/gate/fakes.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.exitcodes import Exit
from gate.ledger import HOLD_TAG, LKG_TAG
from tests.unit.gate.fakes import Project, make_project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = make_project(tmp_path)
    yield project
    project.stop_leftovers()


@pytest.mark.parametrize("on_fail", ["hold", "rollback"])
def test_two_gates_at_once_end_consistent(project: Project, on_fail: str) -> None:
    commit = project.commit("pass")
    project.modes("ok-slow")
    first = project.start("up", "local", "--on-fail", on_fail)
    project.wait_for("up start project ok-slow")
    code, output = project.gate("up", "local", "--on-fail", on_fail)
    first_output, _ = first.communicate(timeout=60)
    assert first.returncode == Exit.GREEN, first_output
    assert code == Exit.BUSY, output
    assert f"pid {first.pid}" in output  # the holder is named
    tags = project.tags()
    assert HOLD_TAG not in tags  # the loser set no hold, the winner lifted none
    assert json.loads(tags[LKG_TAG])["commit"] == commit
    assert [line for line in project.log() if line.startswith("up start")] == [
        "up start project ok-slow"
    ]  # the loser deployed and rolled back nothing


def test_a_second_gate_may_wait_for_the_first(project: Project) -> None:
    project.commit("pass")
    project.modes("ok-slow", "ok")
    first = project.start("up", "local")
    project.wait_for("up start project ok-slow")
    code, output = project.gate("up", "local", "--lock-wait", "60")
    first.communicate(timeout=60)
    assert first.returncode == Exit.GREEN
    assert code == Exit.GREEN, output
    assert project.log().count("up done") == 2


@pytest.mark.parametrize("conflict", ["locked", "conflict"])  # file backend, Pulumi Cloud
def test_pulumis_lock_conflict_is_busy_never_a_failed_deploy(
    project: Project, conflict: str
) -> None:
    # Another checkout (or machine) is updating the stack: only Pulumi's lock says so.
    project.commit("pass")
    project.gate("up", "local")  # an LKG to roll back to
    project.commit("fail")
    project.modes(conflict)
    code, output = project.gate("up", "local", "--on-fail", "rollback")
    assert code == Exit.BUSY, output
    assert "Pulumi's lock on the stack is held by another update" in output
    assert HOLD_TAG not in project.tags()
    assert [line for line in project.log() if line.startswith(("up start", "smoke"))] == [
        "up start project ok",
        "smoke pass",
        f"up start project {conflict}",
    ]  # no smoke, no rollback after the conflict


def test_a_green_gate_never_lifts_a_hold_only_release_does(project: Project) -> None:
    project.commit("pass")
    assert project.gate("up", "local", "--on-fail", "hold")[0] == Exit.GREEN
    project.commit("fail")
    assert project.gate("up", "local", "--on-fail", "hold")[0] == Exit.HELD
    project.commit("pass")
    code, output = project.gate("up", "local", "--override-hold")
    assert code == Exit.GREEN, output
    assert HOLD_TAG in project.tags(), "a green finish lifted a hold it did not set"
    assert "mentora-infra release local" in output
    assert project.gate("release", "local")[0] == Exit.GREEN
    assert HOLD_TAG not in project.tags()
