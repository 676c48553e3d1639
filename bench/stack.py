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
from bench.project import BenchProject
from bench.smoke_report import load_checks, per_check, session_seconds, slowest

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
    """`pulumi up` of a stack that has never been deployed (its servers start from nothing)."""
    result = project.checked(project.up(), "cold pulumi up")
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


def smoke_parts(report: Report, project: BenchProject, samples: int) -> None:
    """What smoke pays before any check: `pulumi stack output --show-secrets` (its output is
    discarded) and a `--collect-only` run (interpreter, pytest, plugins, outputs, imports)."""
    cli = report.row(
        "smoke_outputs_cli", "`pulumi stack output --show-secrets` alone", "smoke part"
    )
    label = "collect only: python, pytest, outputs, imports"
    collect = report.row("smoke_collect_only", label, "smoke part")
    label = "what-if: unused plugins off (-p no:" + ",".join(UNUSED_PLUGINS) + ")"
    lean = report.row("smoke_lean_plugins", label, "smoke part")
    no_plugins = [arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")]
    for _ in range(samples):
        cli.samples.append(project.run("stack", "output", "--json", "--show-secrets").seconds)
        for row, extra in ((collect, ["--collect-only", "-q"]), (lean, no_plugins)):
            result = project.smoke(*extra)
            if result.returncode != 0:
                raise BenchError(f"smoke {' '.join(extra)} exited {result.returncode}")
            row.samples.append(result.seconds)


def smoke(report: Report, project: BenchProject, samples: int, workdir: Path) -> None:
    """The healthy smoke suite `samples` times: wall time, pytest's session time, each check."""
    walls, sessions, slowests, runs = [], [], [], []
    for n in range(samples):
        path = workdir / f"smoke-{n}.json"
        result = project.smoke("--json-report", str(path))
        if result.returncode != 0:
            tail = "\n".join(result.output.strip().splitlines()[-15:])
            raise BenchError(f"smoke failed on a healthy stack (exit {result.returncode}):\n{tail}")
        checks = load_checks(json.loads(path.read_text()))
        top = slowest(checks)
        if top is None:
            raise BenchError("smoke ran no check")
        walls.append(result.seconds)
        slowests.append(top.seconds)
        runs.append(checks)
        session = session_seconds(result.output)
        if session is not None:
            sessions.append(session)
    table = per_check(runs)
    top_name = max(table, key=lambda name: model.median(table[name]) or 0.0)
    report.add(Measurement(model.SMOKE, model.REQUIRED[model.SMOKE], walls))
    # The slowest check of each run (median over runs), named by the check slowest overall.
    report.add(
        Measurement(
            model.SMOKE_SLOWEST, model.REQUIRED[model.SMOKE_SLOWEST], slowests, note=top_name
        )
    )
    checks_sum = [sum(c.seconds for c in run) for run in runs]
    parts = (
        ("smoke_session", "pytest session (collect + checks + teardown)", sessions),
        ("smoke_checks_sum", "sum of the check durations (they run one by one)", checks_sum),
    )
    for key, label, values in parts:
        report.add(Measurement(key, label, values, group="smoke part"))
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
