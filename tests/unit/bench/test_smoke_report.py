"""Reading smoke's `--json-report` (written by smoke's own writer) and its terminal output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.smoke_report import (
    CheckTime,
    failed_services,
    load_checks,
    per_check,
    session_seconds,
    short_name,
    slowest,
)
from smoke.report import CheckOutcome, write_json


def written_by_smoke(tmp_path: Path, checks: list[CheckOutcome]) -> dict[str, object]:
    path = tmp_path / "smoke.json"
    write_json(path, checks)
    return dict(json.loads(path.read_text()))


def test_load_checks_reads_what_smoke_writes(tmp_path: Path) -> None:
    document = written_by_smoke(
        tmp_path,
        [
            CheckOutcome("smoke/test_cache.py::test_ping", "cache", duration_s=0.0123456),
            CheckOutcome("smoke/test_app.py::test_health", "app", outcome="failed", duration_s=1.5),
            CheckOutcome("smoke/test_app.py::test_event", "app", outcome="skipped"),
        ],
    )
    assert load_checks(document) == [
        CheckTime("cache::test_ping", "passed", 0.0123),
        CheckTime("app::test_health", "failed", 1.5),
        CheckTime("app::test_event", "skipped", 0.0),
    ]


def test_load_checks_names_an_unexpected_shape() -> None:
    with pytest.raises(ValueError, match="unexpected shape"):
        load_checks({"checks": [{"check": "x"}]})
    with pytest.raises(ValueError, match="unexpected shape"):
        load_checks({})


def test_short_name_keeps_parameters() -> None:
    assert short_name("smoke/test_database.py::test_rls[videos]") == "database::test_rls[videos]"


def test_slowest_ignores_skipped_checks() -> None:
    checks = [
        CheckTime("a::x", "passed", 0.2),
        CheckTime("a::y", "skipped", 9.0),
        CheckTime("b::z", "failed", 0.5),
    ]
    assert slowest(checks) == CheckTime("b::z", "failed", 0.5)
    assert slowest([CheckTime("a::y", "skipped", 1.0)]) is None


def test_per_check_collects_each_run_in_first_run_order() -> None:
    runs = [
        [CheckTime("a::x", "passed", 0.1), CheckTime("a::y", "passed", 0.3)],
        [CheckTime("a::y", "passed", 0.2), CheckTime("a::x", "skipped", 0.0)],
        [CheckTime("a::x", "passed", 0.4)],
    ]
    assert per_check(runs) == {"a::x": [0.1, 0.4], "a::y": [0.3, 0.2]}


@pytest.mark.parametrize(
    ("output", "seconds"),
    [
        ("collected 21 items\n===== 19 passed, 2 skipped in 2.30s =====", 2.3),
        ("== 3 failed, 18 passed in 62.13s (0:01:02) ==", 62.13),
        ("done in 1s\n== 1 passed in 0.50s ==", 0.5),
        ("no summary line", None),
    ],
)
def test_session_seconds_from_the_last_summary(output: str, seconds: float | None) -> None:
    assert session_seconds(output) == seconds


def test_failed_services_from_the_verdict_line() -> None:
    output = "cache 0 6 0 3.1 FAIL\nSMOKE: FAILED (services: cache, app, security)\n"
    assert failed_services(output) == ["cache", "app", "security"]
    assert failed_services("SMOKE: all 19 checks passed") == []
