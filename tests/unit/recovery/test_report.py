"""The drill report: verdict, table, markdown, JSON and exit code are true at every ending."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from recovery.proofs import Proof
from recovery.report import (
    EXIT_FAILED,
    EXIT_GREEN,
    EXIT_INTERRUPTED,
    DrillReport,
    markdown,
    render,
    write_json,
)

GOOD = [Proof("ledger", True, "6 migrations"), Proof("rls", True, "RLS on for all 15 tables")]
SKIPPED = Proof("markers", False, "no markers", skipped=True)


def report(**changes: object) -> DrillReport:
    base = DrillReport(
        stack="prod",
        method="pg_dump copy",
        source="postgresql://postgres:***@pooler:5432/postgres",
        recovery_point=datetime(2026, 12, 4, 23, 0, tzinfo=UTC),
        recovery_point_age_s=0.5,
        restore_s=1.5,
        replay_s=0.0,
        verify_s=0.25,
        proofs=[*GOOD, SKIPPED],
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_green_when_every_proof_ran_passed_and_skips_are_not_failures() -> None:
    drill = report()
    assert drill.passed and drill.exit_code() == EXIT_GREEN
    text = render(drill)
    assert "DRILL: all 2 proofs passed (1 skipped)" in text
    assert "recovery time   1.75 s = restore 1.50 + replay 0.00 + verify 0.25" in text
    assert "markers      skip" in text


def test_one_failed_proof_fails_the_drill_and_is_named() -> None:
    drill = report(proofs=[*GOOD, Proof("row_counts", False, "videos 3 (expected 4)")])
    assert not drill.passed and drill.exit_code() == EXIT_FAILED
    assert render(drill).endswith("DRILL: FAILED (proofs: row_counts)")
    assert "**FAILED**" in markdown(drill)


def test_a_drill_that_ran_no_proof_is_not_green() -> None:
    drill = report(proofs=[])
    assert drill.exit_code() == EXIT_FAILED
    assert "no proof ran" in render(drill)


def test_a_drill_that_could_not_finish_says_why_even_with_passing_proofs() -> None:
    drill = report(ended="failed: pg_dump exit 1: connection refused")
    assert drill.exit_code() == EXIT_FAILED
    assert "DRILL: FAILED (failed: pg_dump exit 1" in render(drill)


def test_an_interrupted_drill_exits_130_and_gives_no_verdict() -> None:
    drill = report(ended="interrupted")
    assert drill.exit_code() == EXIT_INTERRUPTED
    assert "INTERRUPTED" in render(drill) and not drill.passed


def test_json_document_holds_the_recovery_point_time_and_every_proof(tmp_path: Path) -> None:
    path = tmp_path / "out" / "drill.json"
    write_json(path, report(proofs=[*GOOD, Proof("row_counts", False, "videos differ")]))
    doc = json.loads(path.read_text())
    assert doc["passed"] is False and doc["ended"] == "finished"
    assert doc["recovery_point"] == "2026-12-04T23:00:00+00:00"
    assert doc["recovery_time_s"] == 1.75
    assert [(p["name"], p["ok"]) for p in doc["proofs"]] == [
        ("ledger", True),
        ("rls", True),
        ("row_counts", False),
    ]
    assert list(path.parent.iterdir()) == [path]  # no temporary left behind
