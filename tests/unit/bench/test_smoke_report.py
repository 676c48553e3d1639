"""The bench reads smoke's `--json-report` with smoke's own record type (no copy of it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.smoke_report import (
    failed_services,
    label,
    load_checks,
    per_check,
    session_seconds,
    slowest,
)
from smoke.report import CheckResult, write_json


def check(service: str, name: str, outcome: str = "passed", seconds: float = 0.0) -> CheckResult:
    nodeid = f"smoke/checks/{service}.py::{name}"
    return CheckResult(nodeid, service, name, outcome, duration_s=seconds)


def test_load_checks_reads_what_smoke_writes(tmp_path: Path) -> None:
    written = [
        check("cache", "test_ping", seconds=0.0123),
        check("app", "test_health", "failed", 1.5),
        check("app", "test_event", "skipped"),
    ]
    path = tmp_path / "smoke.json"
    write_json(path, written)
    assert load_checks(json.loads(path.read_text())) == written
    assert [label(c) for c in written] == [
        "cache::test_ping",
        "app::test_health",
        "app::test_event",
    ]


def test_load_checks_names_an_unexpected_shape() -> None:
    with pytest.raises(ValueError, match="unexpected shape"):
        load_checks({"checks": [{"check": "x"}]})
    with pytest.raises(ValueError, match="unexpected shape"):
        load_checks({})


def test_slowest_ignores_skipped_checks() -> None:
    checks = [
        check("a", "x", seconds=0.2),
        check("a", "y", "skipped", 9.0),
        check("b", "z", "failed", 0.5),
    ]
    assert slowest(checks) == checks[2]
    assert slowest([check("a", "y", "skipped", 1.0)]) is None


def test_per_check_collects_each_run_in_first_run_order() -> None:
    runs = [
        [check("a", "x", seconds=0.1), check("a", "y", seconds=0.3)],
        [check("a", "y", seconds=0.2), check("a", "x", "skipped")],
        [check("a", "x", seconds=0.4)],
    ]
    assert per_check(runs) == {"a::x": [0.1, 0.4], "a::y": [0.3, 0.2]}


def test_failed_services_come_from_the_records_interrupted_included() -> None:
    checks = [
        check("database", "c"),
        check("cache", "p", "failed"),
        check("app", "h", "interrupted"),
        check("cache", "q", "failed"),
    ]
    assert failed_services(checks) == ["cache", "app"]
    assert failed_services([check("database", "c")]) == []


@pytest.mark.parametrize(
    ("output", "seconds"),
    [
        ("collected 21 items\n===== 19 passed, 2 skipped in 2.30s =====", 2.3),
        ("== 3 failed, 18 passed in 62.13s (0:01:02) ==", 62.13),
        ("done in 1s\n== 1 passed in 0.50s ==", 0.5),
        ("no summary line", None),
    ],
)
def test_session_seconds(output: str, seconds: float | None) -> None:
    assert session_seconds(output) == seconds
