"""The report as a plain-text table (terminal, docs) and as a JSON document (reports/bench.json).

>>> from bench.model import Measurement, Report, attach_targets
>>> report = Report()
>>> _ = report.add(Measurement("migrations_rerun", "re-run", [0.05]))
>>> attach_targets(report)
>>> print(render_table(report).splitlines()[-1])
verdict: all 1 targets met
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.model import Measurement, Report, Target

SCHEMA_VERSION = 1
GROUP_TITLES = {
    "main": "",
    "cold path": "where the cold up time goes (same dependency order, chains concurrent)",
    "floor step": "floor, step by step (the providers' own steps, chains run concurrently)",
    "smoke check": "smoke checks (median duration of each check over the healthy runs)",
    "smoke part": "where the smoke wall time goes",
    "stack": "other stack operations (no target)",
    "migration part": "where the migrations time goes",
    "heal": "healing after each kill: `pulumi up --refresh` (no target)",
    "hung heal": "healing after each freeze: `pulumi up --refresh` replaces the hung process",
    "memory": "memory after the cold up, idle (RSS of each server's process tree)",
    "network": "smoke through Toxiproxy (one proxy per service endpoint)",
}
_WIDTHS = (58, 9, 22, 8)


def format_value(value: float | None, unit: str = "s") -> str:
    """Seconds as `1.234 s` (ms precision), ratios as `2.07x`, memory as `81.2 MB`, a missing
    value as `-`.

    >>> format_value(0.1234), format_value(12.3456), format_value(2.066, "x"), format_value(None)
    ('0.123 s', '12.35 s', '2.07x', '-')
    >>> format_value(81.24, "MB")
    '81.2 MB'
    """
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "failed":
        return f"{value:g} failed"
    return f"{value:.3f} s" if value < 10 else f"{value:.2f} s"


def status(target: Target) -> str:
    """`met`, `NOT MET`, or `unmeasured` for a target whose value is missing."""
    if target.met is None:
        return "unmeasured"
    return "met" if target.met else "NOT MET"


def _row(*cells: str) -> str:
    label, value, target, verdict = cells
    w = _WIDTHS
    return f"{label:<{w[0]}} {value:>{w[1]}}  {target:<{w[2]}} {verdict}".rstrip()


def _rows(m: Measurement, indent: str) -> list[str]:
    label = (indent + m.label)[: _WIDTHS[0]]
    if m.error and not m.samples:
        return [_row(label, "-", "", f"error: {m.error}")]
    lines = [] if m.targets else [_row(label, format_value(m.seconds, m.unit), "-", "")]
    for n, target in enumerate(m.targets):
        value = format_value(target.value, target.unit)
        lines.append(_row(label if n == 0 else "", value, target.label, status(target)))
    if m.note:
        lines.append(indent + "  " + m.note)
    return lines


def render_table(report: Report) -> str:
    """The whole report: main rows first, then each detail group, the errors and the verdict."""
    lines = [_row("measurement", "value", "target", "status"), "-" * (sum(_WIDTHS) + 8)]
    groups: list[str] = []
    for m in report.measurements:
        if m.group not in groups:
            groups.append(m.group)
    groups.sort(key=lambda g: g != "main")  # stable: main first, others in measured order
    for group in groups:
        if group != "main":
            lines += ["", GROUP_TITLES.get(group, group) + ":"]
        indent = "" if group == "main" else "  "
        for m in report.measurements:
            if m.group == group:
                lines += _rows(m, indent)
    if report.errors:
        lines += ["", "errors (the benchmark itself broke here):"]
        lines += [f"  {e['step']}: {e['error']}" for e in report.errors]
    lines += ["", verdict(report)]
    return "\n".join(lines)


def verdict(report: Report) -> str:
    """One line: every target met, or which are not (and whether the run was interrupted)."""
    targets = [(m, t) for m in report.measurements for t in m.targets]
    missed = [f"{m.label} {t.label}" for m, t in targets if not t.met]
    prefix = "verdict (INTERRUPTED, partial): " if report.interrupted else "verdict: "
    if not targets:
        return prefix + "no target measured"
    if not missed:
        return prefix + f"all {len(targets)} targets met"
    met = len(targets) - len(missed)
    return prefix + f"{met}/{len(targets)} targets met; not met: " + "; ".join(missed)


def _number(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def to_document(report: Report) -> dict[str, Any]:
    """The JSON document: every measurement with its samples, targets and verdicts."""
    return {
        "schema_version": SCHEMA_VERSION,
        "meta": report.meta,
        "exit_code": report.exit_code,
        "interrupted": report.interrupted,
        "all_targets_met": report.all_targets_met,
        "measurements": [
            {
                "key": m.key,
                "label": m.label,
                "group": m.group,
                "unit": m.unit,
                "seconds": _number(m.seconds),
                "samples": [_number(s) for s in m.samples],
                "targets": [
                    {
                        "label": t.label,
                        "limit": t.limit,
                        "unit": t.unit,
                        "value": _number(t.value),
                        "met": t.met,
                    }
                    for t in m.targets
                ],
                "note": m.note,
                "error": m.error,
            }
            for m in report.measurements
        ],
        "errors": report.errors,
    }


def write_json(path: Path, report: Report) -> None:
    """Write `to_document(report)` to `path` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_document(report), indent=2) + "\n")
