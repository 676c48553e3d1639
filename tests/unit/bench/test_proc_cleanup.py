"""Timed commands that never outlive an interrupt or a timeout, and cleanup that always runs."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cleanup import Cleanup, interrupts_raise
from bench.proc import BenchError, run_timed


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    """A command that records its pid, then sleeps 30 s."""
    pid_file = tmp_path / "pid"
    yield ["sh", "-c", f"echo $$ > {pid_file}; exec sleep 30"], pid_file


def test_run_timed_returns_code_output_and_wall_time() -> None:
    result = run_timed(["sh", "-c", "echo out; echo err >&2; sleep 0.2; exit 3"], timeout=10)
    assert result.returncode == 3
    assert result.output.split() == ["out", "err"]
    assert 0.2 <= result.seconds < 5
    assert run_timed(["cat"], stdin_text="fed\n", timeout=10).output == "fed\n"


def test_timeout_kills_the_child_and_names_the_command(sleeper: tuple[list[str], Path]) -> None:
    args, pid_file = sleeper
    start = time.monotonic()
    with pytest.raises(BenchError, match=r"`sh -c echo .*` did not finish within 0.5s"):
        run_timed(args, timeout=0.5)
    assert time.monotonic() - start < 10
    assert gone(int(pid_file.read_text()))


def test_an_interrupt_stops_the_child_and_propagates(sleeper: tuple[list[str], Path]) -> None:
    args, pid_file = sleeper
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_timed(args, timeout=60)
    timer.join()
    assert time.monotonic() - start < 10
    assert gone(int(pid_file.read_text()))


def test_cleanup_runs_newest_first_and_past_failures() -> None:
    done: list[str] = []
    cleanup = Cleanup()
    cleanup.push("stop servers", lambda: done.append("servers"))
    cleanup.push("destroy", lambda: 1 / 0)
    cleanup.push("temp dir", lambda: done.append("temp"))
    assert cleanup.run() == ["destroy: ZeroDivisionError: division by zero"]
    assert done == ["temp", "servers"]
    assert cleanup.run() == []  # each action runs once
    assert done == ["temp", "servers"]


def test_cleanup_is_not_interrupted_by_ctrl_c_and_restores_the_handler() -> None:
    done: list[str] = []

    def interrupted_action() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        done.append("finished despite SIGINT")

    cleanup = Cleanup()
    cleanup.push("last", lambda: done.append("last"))
    cleanup.push("first", interrupted_action)
    before = signal.getsignal(signal.SIGINT)
    assert cleanup.run() == []
    assert done == ["finished despite SIGINT", "last"]
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_an_ignored_sigint_become_keyboard_interrupt(signum: int) -> None:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job of a script
        interrupts_raise()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signum)
            time.sleep(1)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
