"""The per-service summary and the JSON report, from fake pytest reports."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from smoke.report import outcomes, render, tally, write_json


def report(nodeid: str, when: str, outcome: str, duration: float = 0.01, **props: str) -> Any:
    return SimpleNamespace(
        nodeid=nodeid,
        when=when,
        failed=outcome == "failed",
        skipped=outcome == "skipped",
        duration=duration,
        user_properties=list(props.items()),
    )


PING = "smoke/test_cache.py::test_ping"
INCR = "smoke/test_cache.py::test_incr"
CONNECT = "smoke/test_database.py::test_connect"
HEALTH = "smoke/test_app.py::test_health"


def sample() -> list[Any]:
    return [
        report(PING, "setup", "passed"),
        report(PING, "call", "passed", latency_ms="1.5", target="redis://***@h:1", attempts="1"),
        report(PING, "teardown", "passed"),
        report(INCR, "setup", "passed"),
        report(INCR, "call", "passed", latency_ms="4.0"),
        report(INCR, "teardown", "failed", error_class="Failed"),  # cleanup failed
        report(CONNECT, "setup", "failed", duration=0.003, error_class="Failed"),
        report(CONNECT, "teardown", "passed"),
        report(HEALTH, "setup", "skipped"),
    ]


def test_each_check_counts_once_with_its_worst_outcome() -> None:
    checks = {c.check: c for c in outcomes(sample())}
    assert [checks[n].outcome for n in (PING, INCR, CONNECT, HEALTH)] == [
        "passed",
        "failed",
        "failed",
        "skipped",
    ]
    assert checks[PING].target == "redis://***@h:1" and checks[PING].attempts == 1
    assert checks[CONNECT].slowest_ms == checks[CONNECT].duration_s * 1000  # no latency recorded


def test_table_and_verdict() -> None:
    table = tally(outcomes(sample()))
    assert (table["cache"].passed, table["cache"].failed, table["cache"].slowest_ms) == (1, 1, 4.0)
    lines = render(table)
    assert lines[0].split() == ["service", "passed", "failed", "skipped", "slowest", "ms"]
    assert [line.split()[0] for line in lines[1:4]] == ["database", "cache", "app"]
    assert lines[3].endswith("skip")
    assert lines[-1] == "SMOKE: FAILED (services: database, cache)"


def test_verdict_when_all_pass_or_nothing_ran() -> None:
    passed = [report(PING, "call", "passed"), report(CONNECT, "call", "passed")]
    assert render(tally(outcomes(passed)))[-1] == "SMOKE: all 2 checks passed"
    with_skip = [*passed, report(HEALTH, "setup", "skipped")]
    assert render(tally(outcomes(with_skip)))[-1] == "SMOKE: all 2 checks passed (1 skipped)"
    skipped = [report(HEALTH, "setup", "skipped")]
    assert render(tally(outcomes(skipped)))[-1] == "SMOKE: no check ran (1 skipped)"


def test_json_report(tmp_path: Path) -> None:
    path = tmp_path / "r" / "smoke.json"
    write_json(path, outcomes(sample()))
    document = json.loads(path.read_text())
    assert document["passed"] is False
    assert document["services"]["cache"]["failed"] == 1
    first = document["checks"][0]
    assert first["check"] == PING and first["latency_ms"] == 1.5 and first["error_class"] is None
