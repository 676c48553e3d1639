"""The one record of a restore drill (`DrillReport`), its table, its JSON document and its exit
code. Drills fill it; the CLI prints it, writes it, and exits with `exit_code()`; the nightly
workflow puts the markdown in the job summary and the JSON in an artifact.

Recovery point: the time the restored copy represents (the drill's TIME, or the pg_dump
snapshot's time for a cloud copy) and its age when the copy was made. Recovery time: restore +
replay + verify, each measured.

>>> print(render(DrillReport(stack="prod", method="pg_dump copy")))  # doctest: +SKIP
drill      prod (pg_dump copy)
...
DRILL: no proof ran
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from recovery.proofs import Proof

# The same numbers as `mentora-infra`'s table (gate/exitcodes.py): green, failed, bad input,
# interrupted.
EXIT_GREEN, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class DrillReport:
    """Everything one drill found, true at every ending: `ended` is `finished`, `failed: <why>`
    (the drill could not complete: no proof verdict for what did not run) or `interrupted`."""

    stack: str
    method: str
    source: str = ""
    """where the copy came from, redacted (no password)"""
    recovery_point: datetime | None = None
    recovery_point_age_s: float | None = None
    restore_s: float = 0.0
    replay_s: float = 0.0
    verify_s: float = 0.0
    proofs: list[Proof] = field(default_factory=list)
    ended: str = "finished"
    notes: list[str] = field(default_factory=list)

    @property
    def recovery_time_s(self) -> float:
        return self.restore_s + self.replay_s + self.verify_s

    @property
    def passed(self) -> bool:
        """Green: it finished, proofs ran and none failed."""
        return (
            self.ended == "finished"
            and bool(self.proofs)
            and not any(p.failed for p in self.proofs)
        )

    def exit_code(self) -> int:
        if self.ended == "interrupted":
            return EXIT_INTERRUPTED
        return EXIT_GREEN if self.passed else EXIT_FAILED

    def to_json(self) -> dict[str, Any]:
        point = self.recovery_point.isoformat() if self.recovery_point else None
        return {
            "stack": self.stack,
            "method": self.method,
            "source": self.source,
            "passed": self.passed,
            "ended": self.ended,
            "recovery_point": point,
            "recovery_point_age_s": _round(self.recovery_point_age_s),
            "recovery_time_s": round(self.recovery_time_s, 3),
            "restore_s": round(self.restore_s, 3),
            "replay_s": round(self.replay_s, 3),
            "verify_s": round(self.verify_s, 3),
            "proofs": [
                {
                    "name": p.name,
                    "ok": p.ok,
                    "skipped": p.skipped,
                    "detail": p.detail,
                    "duration_s": round(p.duration_s, 3),
                }
                for p in self.proofs
            ],
            "notes": list(self.notes),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def verdict(report: DrillReport) -> str:
    """The one-line verdict, like smoke's `SMOKE: ...` line."""
    if report.ended == "interrupted":
        return "DRILL: INTERRUPTED (scratch server removed; no verdict)"
    if report.ended != "finished":
        return f"DRILL: FAILED ({report.ended})"
    failed = [p.name for p in report.proofs if p.failed]
    if failed:
        return f"DRILL: FAILED (proofs: {', '.join(failed)})"
    if not report.proofs:
        return "DRILL: FAILED (no proof ran)"
    ran = [p for p in report.proofs if not p.skipped]
    skipped = len(report.proofs) - len(ran)
    return f"DRILL: all {len(ran)} proofs passed" + (f" ({skipped} skipped)" if skipped else "")


def render(report: DrillReport) -> str:
    """The table: the drill's facts, one row per proof, then the verdict."""
    point = report.recovery_point.isoformat(timespec="seconds") if report.recovery_point else "-"
    age = f" (age {report.recovery_point_age_s:.1f} s)" if report.recovery_point_age_s else ""
    lines = [
        f"drill           {report.stack} ({report.method})",
        f"source          {report.source or '-'}",
        f"recovery point  {point}{age}",
        f"recovery time   {report.recovery_time_s:.2f} s = restore {report.restore_s:.2f}"
        f" + replay {report.replay_s:.2f} + verify {report.verify_s:.2f}",
        "",
        f"{'proof':<12} {'result':<6} {'ms':>8}  detail",
    ]
    for p in report.proofs:
        mark = "skip" if p.skipped else ("ok" if p.ok else "FAIL")
        lines.append(f"{p.name:<12} {mark:<6} {p.duration_s * 1000:>8.1f}  {p.detail}")
    lines += [f"note: {n}" for n in report.notes]
    lines.append(verdict(report))
    return "\n".join(lines)


def markdown(report: DrillReport) -> str:
    """The report for a GitHub job summary ($GITHUB_STEP_SUMMARY)."""
    point = report.recovery_point.isoformat(timespec="seconds") if report.recovery_point else "-"
    rows = [
        f"### Restore drill: {report.stack} ({report.method})",
        "",
        f"**{verdict(report)}**",
        "",
        f"- recovery point: {point}",
        f"- recovery time: {report.recovery_time_s:.2f} s (restore {report.restore_s:.2f} s, "
        f"replay {report.replay_s:.2f} s, verify {report.verify_s:.2f} s)",
        "",
        "| proof | result | detail |",
        "|---|---|---|",
    ]
    for p in report.proofs:
        mark = "skipped" if p.skipped else ("ok" if p.ok else "**FAILED**")
        rows.append(f"| {p.name} | {mark} | {p.detail.replace('|', '/')} |")
    rows += [f"- note: {n}" for n in report.notes]
    return "\n".join(rows) + "\n"


def write_json(path: Path, report: DrillReport) -> None:
    """Write the JSON document atomically (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    os.replace(temporary, path)
