"""The bench's table and JSON document, from hand-built reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import model
from bench.model import Measurement, Report, Target, attach_targets
from bench.render import format_value, render_table, status, to_document, verdict, write_json


def sample_report() -> Report:
    report = Report(meta={"cpus": 2})
    report.add(Measurement(model.FLOOR, "raw floor", [2.5], note="chains concurrent"))
    report.add(Measurement(model.COLD_UP, "cold up", [6.6, 6.0, 7.2]))
    report.add(Measurement(model.MIGRATE_RERUN, "re-run", [0.01234567]))
    report.add(Measurement("check:cache::test_ping", "cache::test_ping", [0.002], "smoke check"))
    report.add(Measurement("floor:redis", "redis start", [0.04], group="floor step"))
    report.add(Measurement("detect_app", "detect dead app", error="see errors"))
    report.fail("detect app", "smoke passed with app dead: the gate missed it")
    attach_targets(report)
    return report


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [(0.0004, "s", "0.000 s"), (1.23456, "s", "1.235 s"), (45.678, "s", "45.68 s")],
)
def test_format_seconds(value: float, unit: str, shown: str) -> None:
    assert format_value(value, unit) == shown


def test_format_ratio_memory_and_missing() -> None:
    assert format_value(2.2, "x") == "2.20x"
    assert format_value(81.25, "MB") == "81.2 MB"
    assert format_value(None) == "-"


def test_memory_rows_are_shown_in_mb_and_carry_their_unit_in_json() -> None:
    report = Report()
    report.add(Measurement(model.MEMORY_TOTAL, "RSS total", [412.345], unit="MB"))
    attach_targets(report)
    assert render_table(report).splitlines()[2].split()[-3:] == ["412.3", "MB", "-"]
    row = to_document(report)["measurements"][0]
    assert row["unit"] == "MB" and row["seconds"] == 412.345


def test_status_words() -> None:
    assert status(Target("<= 1 s", 1.0, 0.5)) == "met"
    assert status(Target("<= 1 s", 1.0, 1.5)) == "NOT MET"
    assert status(Target("<= 1 s", 1.0, None)) == "unmeasured"


def test_table_rows_targets_and_verdicts() -> None:
    lines = render_table(sample_report()).splitlines()
    cold = next(i for i, line in enumerate(lines) if line.startswith("cold up"))
    assert lines[cold].split() == ["cold", "up", "6.600", "s", "<=", "15", "s", "met"]
    assert lines[cold + 1].split() == ["2.64x", "<=", "2.5x", "floor", "NOT", "MET"]
    assert any(line.split()[:4] == ["re-run", "0.012", "s", "<="] for line in lines)
    floor = next(line for line in lines if line.startswith("raw floor"))
    assert floor.split()[2:5] == ["2.500", "s", "-"]
    assert "  chains concurrent" in lines


def test_table_groups_follow_the_main_rows_with_titles() -> None:
    text = render_table(sample_report())
    main_end = text.index("detect dead app")
    assert text.index("floor, step by step") > main_end
    assert text.index("smoke checks (median") > main_end
    assert "\n  cache::test_ping " in text
    assert "\n  redis start " in text


def test_table_shows_broken_steps_and_a_verdict_naming_what_is_missed() -> None:
    text = render_table(sample_report())
    assert "error: see errors" in text
    assert "errors (the benchmark itself broke here):" in text
    assert "  detect app: smoke passed with app dead: the gate missed it" in text
    last = text.splitlines()[-1]
    assert last.startswith("verdict: 2/4 targets met; not met: ")
    assert "cold up <= 2.5x floor" in last and "detect dead app <= 3 s" in last


def test_verdict_all_met_none_measured_and_interrupted() -> None:
    report = Report()
    assert verdict(report) == "verdict: no target measured"
    report.add(Measurement(model.MIGRATE, "m", [0.5]))
    attach_targets(report)
    assert verdict(report) == "verdict: all 1 targets met"
    report.interrupted = True
    assert verdict(report).startswith("verdict (INTERRUPTED, partial): ")


def test_json_document_carries_samples_targets_and_verdicts() -> None:
    document = to_document(sample_report())
    assert document["schema_version"] == 1
    assert document["exit_code"] == 1 and document["all_targets_met"] is False
    assert document["meta"] == {"cpus": 2}
    rows = {m["key"]: m for m in document["measurements"]}
    cold = rows[model.COLD_UP]
    assert cold["seconds"] == 6.6 and cold["samples"] == [6.6, 6.0, 7.2]
    assert cold["targets"] == [
        {"label": "<= 15 s", "limit": 15.0, "unit": "s", "value": 6.6, "met": True},
        {"label": "<= 2.5x floor", "limit": 2.5, "unit": "x", "value": 2.64, "met": False},
    ]
    assert rows[model.MIGRATE_RERUN]["seconds"] == 0.0123
    assert rows["detect_app"]["seconds"] is None
    assert rows["detect_app"]["targets"][0]["met"] is None
    assert rows["check:cache::test_ping"]["group"] == "smoke check"
    assert document["errors"] == [
        {"step": "detect app", "error": "smoke passed with app dead: the gate missed it"}
    ]


def test_write_json_creates_parents_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "bench.json"
    write_json(path, sample_report())
    assert json.loads(path.read_text()) == to_document(sample_report())
