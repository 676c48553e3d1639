"""The per-service summary printed at the end of a smoke run, and the `--json-report` document.

>>> print("\\n".join(render({"cache": ServiceTally(passed=6, slowest_ms=1.2)})))  # doctest: +SKIP
service    passed failed skipped slowest ms
cache           6      0       0        1.2  ok
SMOKE: all 6 checks passed
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from smoke.checks import SERVICES, service_of


@dataclass
class CheckOutcome:
    """One check over all its phases (setup, call, teardown): the worst outcome wins."""

    check: str
    service: str
    outcome: str = "passed"
    target: str = ""
    duration_s: float = 0.0
    latency_ms: float | None = None
    attempts: int = 0
    error_class: str | None = None

    @property
    def slowest_ms(self) -> float:
        """The recorded network latency, else the check's wall time (e.g. a failed connect)."""
        return self.latency_ms if self.latency_ms is not None else self.duration_s * 1000


@dataclass
class ServiceTally:
    """One row of the summary table."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    slowest_ms: float = 0.0


def outcomes(reports: Iterable[Any]) -> list[CheckOutcome]:
    """Merge the setup/call/teardown reports of each check, in the order checks ran."""
    merged: dict[str, CheckOutcome] = {}
    for report in reports:
        row = merged.setdefault(
            report.nodeid, CheckOutcome(report.nodeid, service_of(report.nodeid))
        )
        row.duration_s += report.duration
        if report.failed:
            row.outcome = "failed"
        elif report.skipped and row.outcome != "failed":
            row.outcome = "skipped"
        props = dict(report.user_properties)
        row.target = props.get("target", row.target)
        if "latency_ms" in props:
            row.latency_ms = float(props["latency_ms"])
        row.attempts = int(props.get("attempts", row.attempts))
        row.error_class = props.get("error_class", row.error_class)
    return list(merged.values())


def tally(checks: Iterable[CheckOutcome]) -> dict[str, ServiceTally]:
    """Count outcomes per service (a setup or teardown error counts as a failed check)."""
    table: dict[str, ServiceTally] = {}
    for check in checks:
        row = table.setdefault(check.service, ServiceTally())
        setattr(row, check.outcome, getattr(row, check.outcome) + 1)
        if check.outcome != "skipped":
            row.slowest_ms = max(row.slowest_ms, check.slowest_ms)
    return table


def render(table: dict[str, ServiceTally]) -> list[str]:
    """The table like the guide's Phase 9 summary, then the one-line verdict."""
    lines = [f"{'service':<10} {'passed':>6} {'failed':>6} {'skipped':>7} {'slowest ms':>10}"]
    order = [s for s in SERVICES if s in table] + sorted(set(table) - set(SERVICES))
    for name in order:
        row = table[name]
        mark = "FAIL" if row.failed else ("skip" if not row.passed else "ok")
        lines.append(
            f"{name:<10} {row.passed:>6} {row.failed:>6} {row.skipped:>7} "
            f"{row.slowest_ms:>10.1f}  {mark}"
        )
    failed = [name for name in order if table[name].failed]
    if failed:
        lines.append(f"SMOKE: FAILED (services: {', '.join(failed)})")
    else:
        passed = sum(r.passed for r in table.values())
        skipped = sum(r.skipped for r in table.values())
        verdict = f"all {passed} checks passed" if passed else "no check ran"
        lines.append(f"SMOKE: {verdict}" + (f" ({skipped} skipped)" if skipped else ""))
    return lines


def write_json(path: Path, checks: list[CheckOutcome]) -> None:
    """The machine-readable report (`--json-report`): one record per check, the same facts the
    junit properties carry; targets are already redacted."""
    table = tally(checks)
    document = {
        "passed": not any(row.failed for row in table.values()),
        "services": {name: asdict(row) for name, row in table.items()},
        "checks": [
            {**asdict(c), "duration_s": round(c.duration_s, 4), "latency_ms": c.latency_ms or 0.0}
            for c in checks
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
