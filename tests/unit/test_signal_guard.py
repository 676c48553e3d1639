"""tests/conftest.py's guard: a test that leaves SIGTERM ignored, SIGINT handled or a signal
blocked fails at teardown, and the next test finds the dispositions as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

LEAKS = """
import signal

def test_ignores_sigterm():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

def test_handles_sigint():
    signal.signal(signal.SIGINT, lambda *_: None)

def test_blocks_sigterm():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])

def test_finds_them_as_they_were():
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])

def test_leaves_them_alone():
    pass
"""


def test_a_test_that_changes_signals_fails_and_the_next_finds_them_restored(
    pytester: pytest.Pytester,
) -> None:
    guard = Path(__file__).parents[1] / "conftest.py"
    pytester.makeconftest(guard.read_text())
    pytester.makepyfile(test_leaks=LEAKS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, errors=3)
    result.stdout.fnmatch_lines(["E * the test left SIGTERM changed (restored now)"])
