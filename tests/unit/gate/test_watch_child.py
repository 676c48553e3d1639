"""Each `watch` round runs in a forked child (gate/watch_process.py `in_child`): its results
come back, what it allocated does not stay in the watch, a child that hangs past the round's
deadline is killed and one that dies gives a lost round, which the watch reports and survives."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

from gate import watch_process
from gate.watch import Watcher, redactor_for
from gate.watch_process import in_child
from smoke.outputs import StackOutputs
from smoke.report import CheckResult
from smoke.service_run import Results
from tests.unit.smoke.helpers import dead_outputs, free_port

PASSED = CheckResult("smoke/checks/cache.py::test_ping", "cache", "test_ping", "passed")


def settings(deadline_in_s: float = 30.0) -> Any:
    return SimpleNamespace(deadline=time.monotonic() + deadline_in_s, stop_grace_s=0.2)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def allocate_and_pass(_settings: Any) -> Results:
    global HELD  # what an in-process round keeps (a driver's model, a cache)
    HELD = bytearray(80 * 1024 * 1024)
    for i in range(0, len(HELD), 4096):
        HELD[i] = 1  # touch every page: resident
    return Results([PASSED])


HELD = bytearray()


def test_the_childs_results_come_back() -> None:
    got = in_child(lambda s: Results([PASSED], "finished"), settings())
    assert got == Results([PASSED], "finished")


def test_what_a_round_allocates_does_not_stay_in_the_watch() -> None:
    before = rss_mb()
    assert in_child(allocate_and_pass, settings()).checks == [PASSED]
    assert rss_mb() - before < 10, "the child's 80 MB reached the watch"
    assert len(HELD) == 0
    allocate_and_pass(settings())  # the same round in this process keeps it: the test can fail
    assert rss_mb() - before > 60
    HELD[:] = b""


def test_a_child_that_hangs_past_the_deadline_is_killed_and_the_round_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(watch_process, "LOST_GRACE_S", 0.3)
    children = {p.pid for p in psutil.Process().children()}

    def hang(_settings: Any) -> Results:
        time.sleep(60)
        return Results([PASSED])

    started = time.monotonic()
    got = in_child(hang, settings(deadline_in_s=0.3))
    assert time.monotonic() - started < 3
    assert got.checks == [] and got.ended.startswith("lost (the round's process was still")
    assert {p.pid for p in psutil.Process().children()} == children  # killed and reaped


@pytest.mark.parametrize(
    ("run", "ended"),
    [
        (lambda s: os._exit(3), "lost (the round's process ended with exit 3 and no results)"),
        (
            lambda s: os.kill(os.getpid(), signal.SIGKILL),
            "lost (the round's process ended with signal SIGKILL and no results)",
        ),  # fmt: skip
        (lambda s: 1 / 0, "lost (ZeroDivisionError)"),
    ],
)
def test_a_child_that_dies_gives_a_lost_round(run: Any, ended: str) -> None:
    assert in_child(run, settings()) == Results([], ended)


def test_a_lost_round_is_reported_and_the_watch_keeps_its_states(tmp_path: Path) -> None:
    outputs = StackOutputs.from_json(
        dead_outputs(free_port(), free_port(), free_port()), "t", "local"
    )
    lines: list[str] = []
    w = Watcher("local", outputs, 2.0, redactor_for(outputs, {}), None, lines.append)
    w.runner = lambda s: Results([PASSED])
    w.round()
    w.runner = lambda s: in_child(lambda s2: os._exit(3), s)
    w.round()
    assert lines[-1] == (
        "watch local: a round gave no results: lost (the round's process ended with exit 3 "
        "and no results)"
    )
    assert w.healthy and w.states["cache::test_ping"].up
