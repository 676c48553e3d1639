"""Running and timing commands so that Ctrl-C never leaves a half-done child behind.

Children run in a session of their own: a Ctrl-C in the terminal reaches only the bench, which
then asks the child to stop (SIGINT: `pulumi` cancels cleanly), waits, and kills it if needed.

>>> run_timed(["true"], timeout=10).returncode
0
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

GRACE_S = 30.0  # what an interrupted `pulumi up` gets to finish its current step


class BenchError(Exception):
    """A step of the benchmark could not be measured (the run then exits non-zero)."""


@dataclass
class Timed:
    """A finished command: exit code, merged stdout+stderr, wall time."""

    args: list[str]
    returncode: int
    output: str
    seconds: float

    def tail(self, lines: int = 15) -> str:
        """The last lines of the output, for error messages."""
        return "\n".join(self.output.strip().splitlines()[-lines:])


def until(what: str, ready: Callable[[], bool], deadline_s: float, poll_s: float = 0.02) -> float:
    """Poll `ready` every `poll_s` until it holds; the seconds that took (a measurement), or
    BenchError past the deadline."""
    start = time.monotonic()
    while not ready():
        if time.monotonic() - start > deadline_s:
            raise BenchError(f"{what} did not happen within {deadline_s:g} s")
        time.sleep(poll_s)
    return time.monotonic() - start


def _signal_group(proc: subprocess.Popen[str], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def stop_child(proc: subprocess.Popen[str], grace_s: float = GRACE_S) -> None:
    """SIGINT the child's group, wait up to `grace_s`, then SIGKILL it."""
    if proc.poll() is not None:
        return
    _signal_group(proc, signal.SIGINT)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        proc.wait(timeout=10)


def run_timed(
    args: list[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    stdin_text: str | None = None,
) -> Timed:
    """Run `args` to completion and time it (wall clock, from spawn to exit).

    A timeout stops the child and raises `BenchError`; an interrupt (Ctrl-C, SIGTERM turned
    into KeyboardInterrupt) stops it gracefully and propagates.
    """
    start = time.monotonic()
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(input=stdin_text, timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_child(proc, grace_s=10)
        raise BenchError(f"`{' '.join(args[:3])}` did not finish within {timeout:g}s") from None
    except BaseException:
        stop_child(proc)
        raise
    return Timed(list(args), proc.returncode, output, time.monotonic() - start)


class Scrubber:
    """Replaces registered secret values with `***` in any text the bench prints or saves.

    >>> scrub = Scrubber()
    >>> scrub.add("hunter2-long-password")
    >>> scrub("password 'hunter2-long-password' rejected")
    "password '***' rejected"
    """

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, *values: str) -> None:
        self._values.update(v for v in values if v)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, "***")
        return text


SCRUB = Scrubber()
