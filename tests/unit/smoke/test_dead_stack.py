"""The whole smoke suite against a stack whose services are all dead: fast, named, no secret."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.unit.smoke.helpers import (
    SmokeRun,
    dead_outputs,
    free_port,
    leaked,
    run_smoke,
    smoke_checks,
)

CHECKS = smoke_checks()
# Outputs with a storage endpoint on this machine are a local stack: no TLS to require.
TLS_CHECKS = {
    "test_postgres_url_requires_tls",
    "test_postgres_refuses_plain_connections",
    "test_redis_url_requires_tls",
}
DEAD = ("database", "cache", "storage", "errors", "security")
# Services a dead local-looking stack has none of: every check of theirs skips (no app_url, so
# no app and no job functions; no Data API and no Upstash REST server in the env output; no
# `backup` output, so no backup archiver).
ABSENT_LOCALLY = ("app", "jobs", "backups", "data_api", "upstash_rest")


def expected_skips(service: str, read_only: bool = False) -> int:
    """Checks of `service` a dead local-looking stack skips: every check of a service it lacks
    and the cloud-only TLS checks; with `read_only`, writing checks are not run at all."""
    names = [n for n, writes in CHECKS[service].items() if not (read_only and writes)]
    return sum(service in ABSENT_LOCALLY or n in TLS_CHECKS for n in names)


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
    # Fast means no retries against a refused port: the checks' own time, as smoke reports it
    # (the interpreter's start is no part of it: 6.3 s in all with eight test processes on two
    # cores, 0.9 s of it checks). The whole process is bounded only to catch a hang.
    took = float(re.search(r"smoke: checks took ([0-9.]+) s", result.stdout)[1])  # type: ignore[index]
    assert took < 3, f"smoke's checks took {took:.1f}s against dead services"
    assert result.seconds < 30, f"smoke took {result.seconds:.1f}s against dead services"
    fix = "(is the local stack up? run: make up)"
    assert f"database: postgres at 127.0.0.1:{pg} refused connection {fix}" in result.stdout
    assert f"cache: redis at 127.0.0.1:{redis} refused connection {fix}" in result.stdout
    assert f"storage: bucket mentora-videos at 127.0.0.1:{s3} refused connection {fix}" in (
        result.stdout
    )
    # The security checks name the service they probe: the dead database and Redis.
    assert (
        f"cache: redis at 127.0.0.1:{redis} refused connection"
        in result.stdout.split("test_redis_refuses_unauthenticated_commands", 1)[1]
    )
    assert "Traceback" not in result.output


def test_summary_table_names_the_failed_services(dead: DeadRun) -> None:
    summary = dead.result.stdout.split("smoke summary", 1)[1]
    rows = {
        m.group(1): m.groups()[1:]
        for m in re.finditer(r"^(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+\s+(\w+)$", summary, re.M)
    }
    assert set(CHECKS["security"]) >= TLS_CHECKS
    expected = {}
    for service, checks in CHECKS.items():
        skipped = expected_skips(service)
        mark = "skip" if skipped == len(checks) else "FAIL"
        expected[service] = ("0", str(len(checks) - skipped), str(skipped), mark)
    assert rows == expected
    assert expected["app"][3] == "skip" and expected["security"][1:3] == ("3", "3")
    assert f"SMOKE: FAILED (services: {', '.join(DEAD)})" in summary
    assert "stack has no app_url output" in dead.result.stdout
    assert "TLS is required of cloud stacks only" in dead.result.stdout


def test_junit_parses_and_carries_no_secret(dead: DeadRun) -> None:
    text = dead.junit.read_text()
    cases = list(ElementTree.fromstring(text).iter("testcase"))
    assert len(cases) == sum(len(checks) for checks in CHECKS.values())
    ran = [c for c in cases if c.find("skipped") is None]
    assert len(ran) == len(cases) - sum(expected_skips(s) for s in CHECKS)
    assert all(c.find("error") is not None or c.find("failure") is not None for c in ran)
    props = {
        p.get("name"): p.get("value")
        for c in cases
        if c.get("name") == "test_ping"
        for p in c.iter("property")
    }
    assert props["error_class"] == "CheckFailed"
    assert not leaked(text), f"secret in junit: {leaked(text)}"


def test_terminal_and_json_report_carry_no_secret(dead: DeadRun) -> None:
    assert not leaked(dead.result.output), f"secret on the terminal: {leaked(dead.result.output)}"
    text = dead.report.read_text()
    document = json.loads(text)
    assert document["passed"] is False
    assert {c["service"] for c in document["checks"]} == set(CHECKS) == {*DEAD, *ABSENT_LOCALLY}
    assert len(document["checks"]) == sum(len(checks) for checks in CHECKS.values())
    assert not leaked(text)


def test_read_only_leaves_out_writing_checks(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dead_outputs(free_port(), free_port(), free_port())))
    result = run_smoke(tmp_path, "--outputs-file", outputs, "--read-only")
    assert result.ret == 1
    counts = {
        word: int(n)
        for n, word in re.findall(r"(\d+) (failed|skipped|deselected|errors?)", result.stdout)
    }
    writing = sum(w for checks in CHECKS.values() for w in checks.values())
    reading = sum(len(checks) for checks in CHECKS.values()) - writing
    skipped = sum(expected_skips(s, read_only=True) for s in CHECKS)
    assert writing >= 10 and counts["deselected"] == writing
    assert counts["skipped"] == skipped
    errors = counts.get("errors", counts.get("error", 0))
    assert counts.get("failed", 0) + errors == reading - skipped
