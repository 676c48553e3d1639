"""The drift report: a table for people, JSON for tools (the scheduled workflow's issue body).

Every value in it was masked when it was parsed (drift/diff.py): nothing here can print a
secret that the records did not already hide.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from drift.diff import Drift

HEADERS = ("resource", "property", "expected", "actual")
MAX_CELL = 80


def _cell(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


def table(stack: str, drifts: Sequence[Drift]) -> str:
    """A fixed-width table, one row per drifted property, or one line saying it is clean.

    >>> print(table("local", []))
    local: no drift (every resource matches the state)
    """
    if not drifts:
        return f"{stack}: no drift (every resource matches the state)"
    cells = [HEADERS, *((d.resource, d.property, d.expected, d.actual) for d in drifts)]
    rows = [tuple(_cell(c) for c in row) for row in cells]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = [f"{stack}: {len(drifts)} drifted propert{'y' if len(drifts) == 1 else 'ies'}"]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def markdown(stack: str, drifts: Sequence[Drift]) -> str:
    """The same table in Markdown (what the drift workflow puts in its issue)."""
    if not drifts:
        return f"`{stack}`: no drift."
    lines = [f"| {' | '.join(HEADERS)} |", "|" + "---|" * len(HEADERS)]
    for d in drifts:
        cells = (d.resource, d.property, d.expected, d.actual)
        lines.append("| " + " | ".join(_cell(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def document(stack: str, drifts: Sequence[Drift]) -> dict[str, object]:
    """The JSON report: the stack, whether it drifted, one record per drifted property."""
    return {
        "stack": stack,
        "drifted": bool(drifts),
        "count": len(drifts),
        "drift": [d.as_dict() for d in drifts],
        "markdown": markdown(stack, drifts),
    }


def write_json(path: Path, stack: str, drifts: Sequence[Drift]) -> None:
    """Write the JSON report atomically (a temporary file renamed over `path`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document(stack, drifts), indent=2) + "\n")
    os.replace(partial, path)
