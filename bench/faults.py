"""Time to detect each dead service: kill its server, time smoke to its non-zero exit, heal.

For each service in turn: SIGKILL the server (pid from the provider's pid file, like the
integration tests), wait until its port is closed, then time `pytest smoke` from spawn to exit.
The run must fail and name the service; `pulumi up --refresh` then restarts the server (timed,
no target) and the next service is killed only once every port listens again.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import model
from bench.model import Measurement, Report
from bench.proc import BenchError
from bench.project import BenchProject
from bench.smoke_report import failed_services, load_checks


def detect(project: BenchProject, service: str, workdir: Path) -> tuple[float, str]:
    """Kill `service`, run smoke; its wall time and a note on what failed."""
    expected = model.DETECTED_SERVICES[service]
    project.kill(service)
    report_path = workdir / f"detect-{service}.json"
    result = project.smoke("--json-report", str(report_path))
    named = failed_services(result.output)
    if result.returncode == 0:
        raise BenchError(f"smoke passed with {service} dead: the gate missed it")
    if expected not in named:
        tail = "\n".join(result.output.strip().splitlines()[-10:])
        raise BenchError(
            f"smoke exited {result.returncode} with {service} dead but did not name "
            f"'{expected}' (named: {named or 'nothing'}):\n{tail}"
        )
    note = f"exit {result.returncode}, failed: {', '.join(named)}"
    if report_path.exists():
        failed = [
            c for c in load_checks(json.loads(report_path.read_text())) if c.outcome == "failed"
        ]
        if failed:
            worst = max(failed, key=lambda c: c.seconds)
            note += f"; slowest failing check {worst.seconds:.2f}s ({worst.name})"
    return result.seconds, note


def heal(project: BenchProject) -> float:
    """`pulumi up --refresh` (what `make up` runs); every port must listen afterwards."""
    result = project.checked(project.up("--refresh"), "pulumi up --refresh (heal)")
    closed = project.closed_ports()
    if closed:
        raise BenchError(f"`pulumi up --refresh` did not restart {', '.join(closed)}")
    return result.seconds


def detection(report: Report, project: BenchProject, workdir: Path) -> None:
    """Every service of `model.DETECTED_SERVICES` in turn; a broken one does not stop the rest
    unless the stack could not be healed."""
    for service in model.DETECTED_SERVICES:
        key = f"{model.DETECT_PREFIX}{service}"
        row = report.add(Measurement(key, model.REQUIRED[key]))
        try:
            seconds, row.note = detect(project, service, workdir)
            row.samples.append(seconds)
        except BenchError as exc:
            row.error = "see errors"
            report.fail(f"detect {service}", str(exc))
        heal_row = report.add(Measurement(f"heal_{service}", f"after dead {service}", group="heal"))
        heal_row.samples.append(heal(project))


def final_smoke(report: Report, project: BenchProject) -> None:
    """After all the kills and heals, the stack must be green again."""
    result = project.smoke()
    if result.returncode != 0:
        tail = "\n".join(result.output.strip().splitlines()[-10:])
        raise BenchError(f"smoke is red after healing every service:\n{tail}")
    report.add(
        Measurement(
            "smoke_after_heal", "smoke after all heals (green)", [result.seconds], group="heal"
        )
    )
