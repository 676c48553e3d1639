"""The throwaway local stack: cold `up`, no-op `up` (plain and `--refresh`), the smoke suite.

Each function adds its measurements to the report and raises `BenchError` when the stack does
not behave (a failed up, changes on a no-op up, a red smoke on a healthy stack).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench import model
from bench.model import Measurement, Report
from bench.proc import BenchError
from bench.project import PORT_KEYS, BenchProject
from bench.smoke_report import load_checks, per_check, session_seconds, slowest
from bench.timeline import PortWatcher, phases
from smoke.report import CheckResult

_CHANGES = re.compile(r"^\s*[+~-]{0,2}\s*(\d+) (created|updated|replaced|deleted)\s*$", re.M)
# Auto-loaded pytest plugins the smoke suite does not use (what-if: their load time saved).
UNUSED_PLUGINS = ("testinfra", "anyio", "platformdirs")


def changes(output: str) -> list[str]:
    """The change counts of pulumi's `Resources:` summary (`['12 created']`); empty = no-op.

    >>> changes("Resources:\\n    + 12 created\\n\\nDuration: 5s")
    ['12 created']
    >>> changes("Resources:\\n    12 unchanged\\n")
    []
    """
    return [f"{n} {what}" for n, what in _CHANGES.findall(output)]


def cold_up(report: Report, project: BenchProject) -> None:
    """`pulumi up` of a stack that has never been deployed (its servers start from nothing),
    with the moments its servers start listening."""
    with PortWatcher({name: project.port(name) for name in PORT_KEYS}) as watcher:
        result = project.checked(project.up(), "cold pulumi up")
    for label, seconds in phases(watcher.first_open, result.seconds).items():
        key = "cold_up_phase:" + label
        report.row(key, "  cold up: " + label, "cold path").samples.append(seconds)
    closed = project.closed_ports()
    if closed:
        raise BenchError(f"cold up finished but {', '.join(closed)} do not listen")
    row = report.row(model.COLD_UP)
    row.samples.append(result.seconds)
    row.note = ", ".join(changes(result.output))


def noop_ups(report: Report, project: BenchProject, samples: int) -> None:
    """`up` then `up --refresh` on an unchanged, healthy stack, `samples` times each."""
    for key, extra in ((model.NOOP_UP, ()), (model.REFRESH_UP, ("--refresh",))):
        row = report.add(Measurement(key, model.REQUIRED[key]))
        for _ in range(samples):
            result = project.checked(project.up(*extra), f"pulumi up {' '.join(extra)}")
            if changes(result.output):
                raise BenchError(
                    f"a no-op `pulumi up {' '.join(extra)}` changed resources: "
                    + ", ".join(changes(result.output))
                )
            row.samples.append(result.seconds)


def _healthy_run(
    project: BenchProject, path: Path
) -> tuple[float, float | None, list[CheckResult]]:
    """One green smoke run with its JSON report: wall time, pytest's session time, checks."""
    result = project.smoke("--json-report", str(path))
    if result.returncode != 0:
        tail = "\n".join(result.output.strip().splitlines()[-15:])
        raise BenchError(f"smoke failed on a healthy stack (exit {result.returncode}):\n{tail}")
    checks = load_checks(json.loads(path.read_text()))
    if slowest(checks) is None:
        raise BenchError("smoke ran no check")
    return result.seconds, session_seconds(result.output), checks


def _parts_round(project: BenchProject, rows: dict[str, Measurement]) -> None:
    """What smoke pays around its checks, right after a healthy run (same conditions):
    `pulumi stack output --show-secrets` alone (output discarded), a `--collect-only` run, and
    the what-if of a run without the auto-loaded plugins smoke does not use."""
    rows["cli"].samples.append(project.run("stack", "output", "--json", "--show-secrets").seconds)
    no_plugins = [arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")]
    for key, extra in (("collect", ["--collect-only", "-q"]), ("lean", no_plugins)):
        result = project.smoke(*extra)
        if result.returncode != 0:
            raise BenchError(f"smoke {' '.join(extra)} exited {result.returncode}")
        rows[key].samples.append(result.seconds)


def smoke(report: Report, project: BenchProject, samples: int, workdir: Path) -> None:
    """The healthy smoke suite `samples` times: wall time, pytest's session time, each check,
    and where the time goes."""
    walls, sessions, slowests, runs = [], [], [], []
    parts = {
        "cli": Measurement("smoke_outputs_cli", "`pulumi stack output --show-secrets` alone"),
        "collect": Measurement("smoke_collect_only", "collect only: python, pytest, outputs"),
        "lean": Measurement(
            "smoke_lean_plugins",
            "what-if: smoke with unused plugins off",
            note="-p no:" + " -p no:".join(UNUSED_PLUGINS),
        ),
    }
    for n in range(samples):
        wall, session, checks = _healthy_run(project, workdir / f"smoke-{n}.json")
        walls.append(wall)
        slowests.append(max(c.duration_s for c in checks if c.outcome != "skipped"))
        runs.append(checks)
        if session is not None:
            sessions.append(session)
        _parts_round(project, parts)
    table = per_check(runs)
    top_name = max(table, key=lambda name: model.median(table[name]) or 0.0)
    report.add(Measurement(model.SMOKE, model.REQUIRED[model.SMOKE], walls))
    # The slowest check of each run (median over runs), named by the check slowest overall.
    label = model.REQUIRED[model.SMOKE_SLOWEST]
    report.add(Measurement(model.SMOKE_SLOWEST, label, slowests, note=top_name))
    checks_sum = [sum(c.duration_s for c in run) for run in runs]
    for row in (
        Measurement("smoke_session", "pytest session (collect + checks + teardown)", sessions),
        Measurement("smoke_checks_sum", "sum of the check durations (one by one)", checks_sum),
        *parts.values(),
    ):
        row.group = "smoke part"
        report.add(row)
    for name, durations in table.items():
        report.add(Measurement(f"check:{name}", name, durations, group="smoke check"))


def destroy(report: Report, project: BenchProject) -> None:
    """`pulumi destroy` of the whole stack (servers stopped, data deleted); a sample per call."""
    result = project.checked(
        project.run("destroy", "--yes", "--skip-preview", check=False, timeout=180),
        "pulumi destroy",
    )
    project.destroyed = True
    row = report.row("destroy", "`pulumi destroy` (stop + delete)", "stack")
    row.samples.append(result.seconds)
