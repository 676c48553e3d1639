"""Finding 4 of issue 19: signals are not failures. SIGTERM (or SIGINT) to the gate's pid alone,
in each phase: pulumi's whole process group is cancelled gracefully, nothing is rolled back, a
rollback under way leaves the stack held, and the exit code is the documented INTERRUPTED."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.exitcodes import MEANINGS, Exit
from gate.ledger import HOLD_TAG
from tests.unit.gate.fakes import HARNESS, Project, make_project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = make_project(tmp_path)
    project.commit("pass")
    code, output = project.gate("up", "local")  # the last-known-good a rollback would use
    assert code == Exit.GREEN, output
    (project.state / "log").unlink()
    yield project
    project.stop_leftovers()


def plugin_gone(project: Project) -> bool:
    pid = int((project.state / "plugin.pid").read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_pulumi_cancels_its_group_and_never_rolls_back(
    project: Project, signum: int
) -> None:
    project.commit("fail")
    project.modes("slow")
    gate = project.start("up", "local", "--on-fail", "rollback")
    project.wait_for("up running")
    os.kill(gate.pid, signum)  # the gate's pid only, as CI or `kill <pid>` does
    output, _ = gate.communicate(timeout=60)
    assert gate.returncode == Exit.INTERRUPTED, output
    log = project.log()
    assert "up cancelled" in log and "plugin got SIGINT" in log, log  # graceful, whole group
    assert plugin_gone(project)
    assert [line for line in log if line.startswith(("up start", "smoke"))] == [
        "up start project slow"
    ]
    assert HOLD_TAG not in project.tags()
    last = json.loads(project.tags()["mentora:last-gate"])
    assert last["outcome"].startswith(f"interrupted by {signal.Signals(signum).name}")


def test_sigterm_during_smoke_is_not_a_failed_smoke(project: Project) -> None:
    project.commit("slow")
    gate = project.start("up", "local", "--on-fail", "rollback")
    project.wait_for("smoke slow")
    os.kill(gate.pid, signal.SIGTERM)
    output, _ = gate.communicate(timeout=60)
    assert gate.returncode == Exit.INTERRUPTED, output
    assert [line for line in project.log() if line.startswith("up start")] == [
        "up start project ok"
    ]  # no rollback of a commit whose smoke was merely stopped
    assert HOLD_TAG not in project.tags()


def test_sigterm_during_a_rollback_leaves_the_stack_held(project: Project) -> None:
    project.commit("fail")
    project.modes("ok", "slow")  # the deploy works, smoke fails, the rollback's up is stopped
    gate = project.start("up", "local", "--on-fail", "rollback")
    project.wait_for("up running")
    os.kill(gate.pid, signal.SIGTERM)
    output, _ = gate.communicate(timeout=60)
    assert gate.returncode == Exit.INTERRUPTED, output
    log = project.log()
    assert "up cancelled" in log and "plugin got SIGINT" in log, log
    assert plugin_gone(project)
    hold = json.loads(project.tags()[HOLD_TAG])
    assert "interrupted" in hold["reason"]


@pytest.mark.parametrize("command", ["status", "release"])
def test_sigterm_in_any_command_ends_with_the_documented_code(
    project: Project, command: str
) -> None:
    (project.state / "slow-tags").write_text("1")
    gate = project.start(command, "local")
    project.wait_for("tag ls waiting")
    os.kill(gate.pid, signal.SIGTERM)
    output, _ = gate.communicate(timeout=30)
    assert gate.returncode == Exit.INTERRUPTED, output
    assert "Traceback" not in output


def test_a_gate_in_a_terminal_never_leaves_pulumi_stopped(project: Project) -> None:
    # Pulumi runs in a process group of its own; had it the terminal as stdin, its interactive
    # display would set the terminal raw from a background group and be stopped (SIGTTOU).
    project.commit("pass")
    pid, master = pty.fork()
    if pid == 0:  # the child: the gate, with the pty as its controlling terminal
        os.environ.update(project.env())
        os.execv(sys.executable, [sys.executable, "-c", HARNESS, str(project.root), "up", "local"])
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                output += os.read(master, 65536)
            except OSError:  # EIO: the gate ended and the terminal closed
                break
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            break
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail(f"the gate did not end in a terminal: {output.decode(errors='replace')}")
    while select.select([master], [], [], 0.5)[0]:  # what it wrote last
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    assert os.waitstatus_to_exitcode(status) == Exit.GREEN, output.decode(errors="replace")


def test_every_exit_code_is_in_the_table() -> None:
    assert set(MEANINGS) == set(Exit)
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    for code in Exit:
        assert f"| `{int(code)}` |" in readme, f"exit {int(code)} is not in README's table"
