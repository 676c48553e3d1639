"""Per-check measurements and the per-service summary printed at the end of a smoke run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVICES = ("database", "cache", "storage", "app")


def service_of(nodeid: str) -> str:
    """`smoke/test_cache.py::test_ping` -> `cache`."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return module.removeprefix("test_").removesuffix(".py")


@dataclass
class Measure:
    """What one check records: the (redacted) target, its latency and how many attempts it took."""

    item: pytest.Item
    target: str = ""
    attempts: int = 0
    latency_ms: float = 0.0

    @contextmanager
    def timed(self, target: str) -> Iterator[None]:
        """Time one network interaction with `target` (already redacted)."""
        self.target = target
        self.attempts += 1
        start = time.perf_counter()
        try:
            yield
        finally:
            self.latency_ms += (time.perf_counter() - start) * 1000
            self.item.user_properties[:] = [
                ("service", service_of(self.item.nodeid)),
                ("target", self.target),
                ("latency_ms", f"{self.latency_ms:.1f}"),
                ("attempts", str(self.attempts)),
            ]


@dataclass
class ServiceTally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    slowest_ms: float = 0.0


def tally(reports: list[pytest.TestReport]) -> dict[str, ServiceTally]:
    """Count outcomes per service (a setup error counts as a failed check)."""
    table: dict[str, ServiceTally] = {}
    for report in reports:
        if report.when != "call" and not (report.failed or report.skipped):
            continue
        row = table.setdefault(service_of(report.nodeid), ServiceTally())
        if report.skipped:
            row.skipped += 1
        elif report.failed:
            row.failed += 1
        else:
            row.passed += 1
        latency = dict(report.user_properties).get("latency_ms")
        if latency:
            row.slowest_ms = max(row.slowest_ms, float(latency))
    return table


def render(table: dict[str, ServiceTally]) -> list[str]:
    """The summary like the guide's Phase 9 one, then a one-line verdict."""
    lines = [f"{'service':<10} {'passed':>6} {'failed':>6} {'skipped':>7} {'slowest ms':>10}"]
    order = [s for s in SERVICES if s in table] + sorted(set(table) - set(SERVICES))
    for name in order:
        row = table[name]
        mark = "FAIL" if row.failed else "ok"
        lines.append(
            f"{name:<10} {row.passed:>6} {row.failed:>6} {row.skipped:>7} "
            f"{row.slowest_ms:>10.1f}  {mark}"
        )
    failed = [name for name in order if table[name].failed]
    total = sum(r.passed for r in table.values())
    if failed:
        lines.append(f"SMOKE: FAILED (services: {', '.join(failed)})")
    else:
        lines.append(f"SMOKE: all {total} checks passed")
    return lines


def records(reports: list[pytest.TestReport]) -> list[dict[str, object]]:
    """One record per check, the same facts the junit properties carry."""
    out: list[dict[str, object]] = []
    for report in reports:
        if report.when != "call" and not (report.failed or report.skipped):
            continue
        props = dict(report.user_properties)
        out.append(
            {
                "check": report.nodeid,
                "service": service_of(report.nodeid),
                "outcome": "failed" if report.failed else report.outcome,
                "target": props.get("target", ""),
                "duration_s": round(report.duration, 4),
                "latency_ms": float(props.get("latency_ms", 0) or 0),
                "attempts": int(props.get("attempts", 0) or 0),
                "error_class": props.get("error_class"),
            }
        )
    return out


def write_json(path: Path, reports: list[pytest.TestReport]) -> None:
    """The machine-readable report (`--json-report`); secrets are already redacted."""
    table = tally(reports)
    document = {
        "passed": not any(row.failed for row in table.values()),
        "services": {name: vars(row) for name, row in table.items()},
        "checks": records(reports),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
