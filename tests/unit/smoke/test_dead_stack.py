"""The whole smoke suite against a stack whose services are all dead: fast, named, no secret."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.unit.smoke.helpers import SmokeRun, dead_outputs, free_port, leaked, run_smoke


@dataclass(frozen=True)
class DeadRun:
    ports: tuple[int, int, int]
    result: SmokeRun
    junit: Path
    report: Path


@pytest.fixture(scope="module")
def dead(tmp_path_factory: pytest.TempPathFactory) -> DeadRun:
    """One run of the suite (junit with captured logs, JSON report) shared by this module."""
    base = tmp_path_factory.mktemp("dead")
    ports = (free_port(), free_port(), free_port())
    outputs = base / "outputs.json"
    outputs.write_text(json.dumps(dead_outputs(*ports)))
    junit, report = base / "smoke.xml", base / "smoke.json"
    args = ("--outputs-file", outputs, "--junitxml", junit, "--json-report", report)
    result = run_smoke(base, *args, "-o", "junit_logging=all", "-rA")
    return DeadRun(ports, result, junit, report)


def test_fails_fast_naming_each_dead_service_and_the_fix(dead: DeadRun) -> None:
    result, (pg, redis, s3) = dead.result, dead.ports
    assert result.ret == 1, result.output
    # The whole child process, interpreter start included.
    assert result.seconds < 5, f"smoke took {result.seconds:.1f}s against dead services"
    fix = "(is the local stack up? run: make up)"
    assert f"database: postgres at 127.0.0.1:{pg} refused connection {fix}" in result.stdout
    assert f"cache: redis at 127.0.0.1:{redis} refused connection {fix}" in result.stdout
    assert f"storage: bucket mentora-videos at 127.0.0.1:{s3} refused connection {fix}" in (
        result.stdout
    )
    assert "Traceback" not in result.output


def test_summary_table_names_the_failed_services(dead: DeadRun) -> None:
    summary = dead.result.stdout.split("smoke summary", 1)[1]
    rows = {
        m.group(1): m.groups()[1:]
        for m in re.finditer(r"^(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+\s+(\w+)$", summary, re.M)
    }
    assert rows == {
        "database": ("0", "7", "0", "FAIL"),
        "cache": ("0", "6", "0", "FAIL"),
        "storage": ("0", "3", "0", "FAIL"),
        "app": ("0", "0", "5", "skip"),
    }
    assert "SMOKE: FAILED (services: database, cache, storage)" in summary
    assert "stack has no app_url output" in dead.result.stdout


def test_junit_parses_and_carries_no_secret(dead: DeadRun) -> None:
    text = dead.junit.read_text()
    cases = list(ElementTree.fromstring(text).iter("testcase"))
    assert len(cases) == 21
    assert sum(c.find("error") is not None for c in cases) == 16
    props = {
        p.get("name"): p.get("value")
        for c in cases
        if c.get("name") == "test_ping"
        for p in c.iter("property")
    }
    assert props["error_class"] == "Failed"
    assert not leaked(text), f"secret in junit: {leaked(text)}"


def test_terminal_and_json_report_carry_no_secret(dead: DeadRun) -> None:
    assert not leaked(dead.result.output), f"secret on the terminal: {leaked(dead.result.output)}"
    text = dead.report.read_text()
    document = json.loads(text)
    assert document["passed"] is False
    assert {c["service"] for c in document["checks"]} == {"database", "cache", "storage", "app"}
    assert len(document["checks"]) == 21
    assert not leaked(text)


def test_read_only_leaves_out_writing_checks(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dead_outputs(free_port(), free_port(), free_port())))
    result = run_smoke(tmp_path, "--outputs-file", outputs, "--read-only")
    assert result.ret == 1
    assert "2 skipped, 10 deselected, 9 errors" in result.stdout
