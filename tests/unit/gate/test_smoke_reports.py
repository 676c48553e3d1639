"""Issue 19, finding 6: `mentora-infra smoke local --deadline 6 --json F` exited 3 and F said
`{"passed": true, "checks": []}` in 2 of 4 runs, and in the other 2 no report was written. A run
stopped before pytest writes its reports (here: the deadline hits while the suite still
collects) leaves reports saying no check passed, and never an earlier run's report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from xml.etree import ElementTree

from gate.exitcodes import Exit
from gate.runner import Checkout

SLOW_COLLECTION = """
import time

def pytest_addoption(parser):
    parser.addoption("--stack")
    parser.addoption("--json-report")

def pytest_collection(session):
    time.sleep(30)
"""


def test_a_run_stopped_before_its_reports_leaves_reports_that_pass_nothing(tmp_path: Path) -> None:
    suite = tmp_path / "smoke"
    suite.mkdir()
    (suite / "conftest.py").write_text(SLOW_COLLECTION)
    report, junit = tmp_path / "smoke.json", tmp_path / "smoke.xml"
    report.write_text(json.dumps({"passed": True, "checks": []}))  # an earlier run's
    junit.write_text("<testsuites/>")
    started = time.monotonic()
    code = Checkout(tmp_path).smoke("local", json_path=report, junit=junit, deadline=1.5)
    assert code is Exit.DEADLINE
    assert time.monotonic() - started < 25
    written = json.loads(report.read_text())
    assert written["passed"] is False and written["checks"] == []
    assert "stopped before any check reported" in written["ended"]
    errors = ElementTree.parse(junit).getroot().iter("error")
    assert [e.get("message") for e in errors] == [written["ended"]]
