"""SIGTERM to the gate mid-run interrupts the smoke suite gracefully: its cleanup still runs, and
the run ends INTERRUPTED (a signal is not a failed check)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from gate.exitcodes import Exit

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = """
import pathlib
import pytest

def pytest_addoption(parser):
    parser.addoption("--stack")

@pytest.fixture(scope="module")
def smoke_data():
    yield
    pathlib.Path(__file__).with_name("cleaned").write_text("smoke data deleted")
"""
SLOW_CHECK = """
import pathlib
import time

def test_slow(smoke_data):
    pathlib.Path(__file__).with_name("started").write_text("1")
    time.sleep(60)
"""


def test_sigterm_mid_run_still_cleans_up(tmp_path: Path) -> None:
    suite = tmp_path / "smoke"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_slow.py").write_text(SLOW_CHECK)
    gate = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from gate.runner import Checkout; "
            f"sys.exit(int(Checkout(Path({str(tmp_path)!r})).smoke('local', deadline=120)))",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not (suite / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (suite / "started").exists(), "the slow check never started"
    gate.send_signal(signal.SIGTERM)
    output, _ = gate.communicate(timeout=30)
    assert gate.returncode == Exit.INTERRUPTED, output
    assert (suite / "cleaned").read_text() == "smoke data deleted", output
