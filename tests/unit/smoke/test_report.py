"""The one record type (`CheckResult`), the per-service summary and the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

from smoke.report import CheckResult, load_json, render, tally, write_json

PING = "smoke/checks/cache.py::test_ping"
INCR = "smoke/checks/cache.py::test_incr"
CONNECT = "smoke/checks/database.py::test_connect"
HEALTH = "smoke/checks/app.py::test_health"


def result(check: str, outcome: str, duration: float = 0.01, **kw: object) -> CheckResult:
    service, name = check.split("/")[-1].split(".py::")
    return CheckResult(check, service, name, outcome, duration_s=duration, **kw)  # type: ignore[arg-type]


def sample() -> list[CheckResult]:
    return [
        result(PING, "passed", latency_ms=1.5, target="redis://***@h:1", attempts=1),
        result(INCR, "failed", latency_ms=4.0, error_class="teardown"),  # cleanup failed
        result(CONNECT, "failed", duration=0.003, error_class="CheckFailed"),
        result(HEALTH, "skipped"),
    ]


def test_slowest_is_the_latency_else_the_wall_time() -> None:
    checks = {c.check: c for c in sample()}
    assert checks[PING].slowest_ms == 1.5
    assert checks[CONNECT].slowest_ms == checks[CONNECT].duration_s * 1000  # no latency recorded


def test_table_and_verdict() -> None:
    table = tally(sample())
    assert (table["cache"].passed, table["cache"].failed, table["cache"].slowest_ms) == (1, 1, 4.0)
    lines = render(table)
    assert lines[0].split() == ["service", "passed", "failed", "skipped", "slowest", "ms"]
    assert [line.split()[0] for line in lines[1:4]] == ["database", "cache", "app"]
    assert lines[3].endswith("skip")
    assert lines[-1] == "SMOKE: FAILED (services: database, cache)"


def test_verdict_when_all_pass_or_nothing_ran() -> None:
    passed = [result(PING, "passed"), result(CONNECT, "passed")]
    assert render(tally(passed))[-1] == "SMOKE: all 2 checks passed"
    with_skip = [*passed, result(HEALTH, "skipped")]
    assert render(tally(with_skip))[-1] == "SMOKE: all 2 checks passed (1 skipped)"
    assert render(tally([result(HEALTH, "skipped")]))[-1] == "SMOKE: no check ran (1 skipped)"


def test_an_interrupted_check_fails_the_run_and_is_named() -> None:
    checks = [result(PING, "passed"), result(CONNECT, "interrupted")]
    table = tally(checks)
    assert (table["database"].failed, table["database"].interrupted) == (1, 1)
    assert render(table)[-1] == "SMOKE: FAILED (services: database; 1 interrupted)"


def test_json_report_round_trips_the_record(tmp_path: Path) -> None:
    path = tmp_path / "r" / "smoke.json"
    write_json(path, sample())
    document = json.loads(path.read_text())
    assert document["passed"] is False and document["ended"] == "finished"
    assert document["services"]["cache"]["failed"] == 1
    first = document["checks"][0]
    assert first["check"] == PING and first["latency_ms"] == 1.5 and first["error_class"] is None
    assert load_json(document) == [
        c if c.latency_ms else CheckResult(**{**c.__dict__, "latency_ms": None}) for c in sample()
    ]


def test_a_report_without_checks_never_says_passed(tmp_path: Path) -> None:
    path = tmp_path / "smoke.json"
    write_json(path, [], "interrupted (SIGINT)")
    document = json.loads(path.read_text())
    assert document["passed"] is False and document["checks"] == []
