"""The one record of a smoke check (`CheckResult`), the per-service summary printed at the end
of a run, and the `--json-report` document. The engine makes the records; pytest's face, the
gate and the bench read them (the bench through `load_json`: no caller keeps its own copy).

>>> print("\\n".join(render({"cache": ServiceTally(passed=6, slowest_ms=1.2)})))  # doctest: +SKIP
service    passed failed skipped slowest ms
cache           6      0       0        1.2  ok
SMOKE: all 6 checks passed
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# The outcomes of a check. `interrupted`: the run was stopped (a signal, its deadline) before
# the check finished; it counts as failed.
OUTCOMES = ("passed", "failed", "skipped", "interrupted")
SERVICES = ("database", "cache", "storage", "app")  # the summary's first rows, in this order


@dataclass(frozen=True)
class CheckResult:
    """One check's record: what the engine returns, the JSON report holds and pytest shows.
    `check` is `smoke/checks/<service>.py::<name>` (pytest's node id of its item); `target`,
    `message` and the captured output are redacted; `error_class` names the failure's kind
    (`CheckFailed`, `AssertionError`, `hung`, `interrupted`, ...)."""

    check: str
    service: str
    name: str
    outcome: str = "passed"
    target: str = ""
    duration_s: float = 0.0
    latency_ms: float | None = None
    attempts: int = 0
    error_class: str | None = None
    message: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    stdout: str = ""
    stderr: str = ""
    log: str = ""

    @property
    def slowest_ms(self) -> float:
        """The recorded network latency, else the check's wall time (e.g. a failed connect)."""
        return self.latency_ms if self.latency_ms is not None else self.duration_s * 1000

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "interrupted")

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
        record["properties"] = dict(self.properties)
        record["duration_s"] = round(self.duration_s, 4)
        record["latency_ms"] = self.latency_ms or 0.0
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> CheckResult:
        """A record of a `--json-report` document (older documents lack the newer fields)."""
        check = str(record["check"])
        return cls(
            check=check,
            service=str(record["service"]),
            name=str(record.get("name") or check.rsplit("::", 1)[-1]),
            outcome=str(record["outcome"]),
            target=str(record.get("target", "")),
            duration_s=float(record["duration_s"]),
            latency_ms=float(record["latency_ms"]) if record.get("latency_ms") else None,
            attempts=int(record.get("attempts", 0)),
            error_class=record.get("error_class"),
            message=str(record.get("message", "")),
            properties=tuple(
                (str(k), str(v)) for k, v in dict(record.get("properties", {})).items()
            ),
            stdout=str(record.get("stdout", "")),
            stderr=str(record.get("stderr", "")),
            log=str(record.get("log", "")),
        )


@dataclass
class ServiceTally:
    """One row of the summary table (an interrupted check counts as failed)."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    slowest_ms: float = 0.0
    interrupted: int = field(default=0)


def tally(checks: Iterable[CheckResult]) -> dict[str, ServiceTally]:
    """Count outcomes per service."""
    table: dict[str, ServiceTally] = {}
    for check in checks:
        row = table.setdefault(check.service, ServiceTally())
        if check.outcome == "interrupted":
            row.interrupted += 1
            row.failed += 1
        else:
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
        interrupted = sum(table[name].interrupted for name in order)
        note = f"; {interrupted} interrupted" if interrupted else ""
        lines.append(f"SMOKE: FAILED (services: {', '.join(failed)}{note})")
    else:
        passed = sum(r.passed for r in table.values())
        skipped = sum(r.skipped for r in table.values())
        verdict = f"all {passed} checks passed" if passed else "no check ran"
        lines.append(f"SMOKE: {verdict}" + (f" ({skipped} skipped)" if skipped else ""))
    return lines


def document(checks: list[CheckResult], ended: str = "finished") -> dict[str, Any]:
    """The `--json-report` document. `passed` is true only when it lists checks and none of
    them failed; `ended` says how the run ended (`finished`, `interrupted (SIGINT)`, ...)."""
    table = tally(checks)
    return {
        "passed": bool(checks) and not any(row.failed for row in table.values()),
        "ended": ended,
        "services": {name: asdict(row) for name, row in table.items()},
        "checks": [c.to_json() for c in checks],
    }


def write_json(path: Path, checks: list[CheckResult], ended: str = "finished") -> None:
    """Write the document atomically (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document(checks, ended), indent=2) + "\n")
    os.replace(temporary, path)


def load_json(document: dict[str, Any]) -> list[CheckResult]:
    """The records of a `--json-report` document, in the order the checks were declared."""
    try:
        return [CheckResult.from_json(r) for r in document["checks"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"smoke JSON report has an unexpected shape: {exc!r}") from None
