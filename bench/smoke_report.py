"""Reading what a smoke run left: its `--json-report` records and its terminal summary.

The JSON format is smoke/report.py's `write_json`: `{"passed", "services", "checks": [{"check",
"service", "outcome", "duration_s", "latency_ms", "attempts", ...}]}`.

>>> session_seconds("==== 19 passed, 2 skipped in 2.30s ====")
2.3
>>> failed_services("SMOKE: FAILED (services: cache, app)")
['cache', 'app']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_SESSION = re.compile(r"\bin (\d+(?:\.\d+)?)s\b")
_FAILED = re.compile(r"SMOKE: FAILED \(services: ([^)]*)\)")


@dataclass(frozen=True)
class CheckTime:
    """One check of one run: `service::test_name`, its outcome and its duration (all phases)."""

    name: str
    outcome: str
    seconds: float


def short_name(nodeid: str) -> str:
    """`smoke/test_cache.py::test_ping` -> `cache::test_ping`.

    >>> short_name("smoke/test_cache.py::test_ping[x]")
    'cache::test_ping[x]'
    """
    module, _, test = nodeid.partition("::")
    service = module.rsplit("/", 1)[-1].removeprefix("test_").removesuffix(".py")
    return f"{service}::{test}"


def load_checks(document: dict[str, Any]) -> list[CheckTime]:
    """The check records of a `--json-report` document, in the order the checks ran."""
    try:
        records = document["checks"]
        return [
            CheckTime(short_name(r["check"]), r["outcome"], float(r["duration_s"])) for r in records
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"smoke JSON report has an unexpected shape: {exc!r}") from None


def slowest(checks: Iterable[CheckTime]) -> CheckTime | None:
    """The longest check that ran (skipped checks do no work and are left out)."""
    ran = [c for c in checks if c.outcome != "skipped"]
    return max(ran, key=lambda c: c.seconds) if ran else None


def per_check(runs: Iterable[list[CheckTime]]) -> dict[str, list[float]]:
    """name -> its duration in each run (checks that ran), in first-run order."""
    table: dict[str, list[float]] = {}
    for run in runs:
        for check in run:
            if check.outcome != "skipped":
                table.setdefault(check.name, []).append(check.seconds)
    return table


def session_seconds(output: str) -> float | None:
    """The time pytest reports for the session (collection + checks), from its last line."""
    found = _SESSION.findall(output)
    return float(found[-1]) if found else None


def failed_services(output: str) -> list[str]:
    """Services named by smoke's verdict line; empty when it did not report a failure."""
    match = _FAILED.search(output)
    return [s.strip() for s in match.group(1).split(",") if s.strip()] if match else []
