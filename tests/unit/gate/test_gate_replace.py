"""A gate run that replaces resources (a cloud rotation that can only reset a credential:
rotation/cloud_db_password.py) passes each URN to `pulumi up --replace`, never skips the
preview that refuses a data-losing change, and, run with the lock already held by the rotation,
neither waits for that lock nor takes it again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.exitcodes import Exit
from gate.gatekeeper import Gate, OnFail
from gate.lock import gate_lock
from tests.unit.gate.fakes import Project, make_project

URN = "urn:pulumi:local::mentora::random:index/randomPassword:RandomPassword::database-password"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    project = make_project(tmp_path)
    for key in ("PATH", "FAKE_PULUMI_STATE"):
        monkeypatch.setenv(key, project.env()[key])
    yield project
    project.stop_leftovers()


def test_a_replacing_gate_under_the_rotations_lock_replaces_with_its_preview(
    project: Project,
) -> None:
    project.commit("pass")
    assert project.gate("up", "local")[0] == Exit.GREEN  # now the last-known-good
    with gate_lock("local", project.root):  # the rotation holds it
        gate = Gate("local", OnFail.REPORT, root=project.root, lock_held=True, replace=(URN,))
        assert gate.run() == Exit.GREEN, gate.outcome
    args = [line for line in project.log() if line.startswith("up args")]
    assert f"--replace {URN}" in args[-1] and "--skip-preview" not in args[-1], args
