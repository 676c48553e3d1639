"""Reading what a smoke run left, with smoke's own record type: its `--json-report` document
holds one `smoke.report.CheckResult` per check (read back by `smoke.report.load_json`), so the
bench keeps no copy of the record and parses no verdict line. Only pytest's session time is
read from the terminal (smoke does not measure its own start-up).

>>> session_seconds("==== 19 passed, 2 skipped in 2.30s ====")
2.3
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from smoke.report import CheckResult, load_json

_SESSION = re.compile(r"\bin (\d+(?:\.\d+)?)s\b")


def label(check: CheckResult) -> str:
    """`cache::test_ping`: how the bench names a check in its rows."""
    return f"{check.service}::{check.name}"


def load_checks(document: dict[str, Any]) -> list[CheckResult]:
    """The check records of a `--json-report` document, in the order the checks were declared;
    a ValueError names an unexpected shape."""
    return load_json(document)


def slowest(checks: Iterable[CheckResult]) -> CheckResult | None:
    """The longest check that ran (skipped checks do no work and are left out)."""
    ran = [c for c in checks if c.outcome != "skipped"]
    return max(ran, key=lambda c: c.duration_s) if ran else None


def per_check(runs: Iterable[list[CheckResult]]) -> dict[str, list[float]]:
    """label -> its duration in each run (checks that ran), in first-run order."""
    table: dict[str, list[float]] = {}
    for run in runs:
        for check in run:
            if check.outcome != "skipped":
                table.setdefault(label(check), []).append(check.duration_s)
    return table


def session_seconds(output: str) -> float | None:
    """The time pytest reports for the session (collection + checks), from its last line."""
    found = _SESSION.findall(output)
    return float(found[-1]) if found else None


def failed_services(checks: Iterable[CheckResult]) -> list[str]:
    """Services with a failed (or interrupted) check, in the order the checks were declared."""
    return list(dict.fromkeys(c.service for c in checks if c.failed))
