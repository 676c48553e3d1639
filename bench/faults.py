"""Time to detect each dead, then each hung, service: break its server, time smoke to its
non-zero exit, heal.

Dead: SIGKILL the server and its children (pid from the provider's pid file, like the
integration tests), wait until its port is closed, then time `pytest smoke` from spawn to exit.
Hung: SIGSTOP it (`BenchProject.freeze`): the port stays open and nothing answers. Either way the
run must fail and name the service; `pulumi up --refresh` then heals it (timed, no target: its
readiness probes see the hung process and replace it), and the next service is broken only once
every port listens again (after a freeze, also once smoke is green again).
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import model
from bench.model import Measurement, Report
from bench.proc import BenchError
from bench.project import BenchProject
from bench.smoke_report import failed_services, label, load_checks


def timed_red_smoke(project: BenchProject, service: str, report_path: Path) -> tuple[float, str]:
    """Smoke with `service` broken: its wall time and a note on what failed; BenchError when
    it passed or did not name the service."""
    expected = model.DETECTED_SERVICES[service]
    result = project.smoke("--json-report", str(report_path))
    checks = load_checks(json.loads(report_path.read_text())) if report_path.exists() else []
    named = failed_services(checks)
    if result.returncode == 0:
        raise BenchError(f"smoke passed with {service} broken: the gate missed it")
    if expected not in named:
        tail = "\n".join(result.output.strip().splitlines()[-10:])
        raise BenchError(
            f"smoke exited {result.returncode} with {service} broken but did not name "
            f"'{expected}' (named: {named or 'nothing'}):\n{tail}"
        )
    note = f"exit {result.returncode}, failed: {', '.join(named)}"
    failed = [c for c in checks if c.failed]
    if failed:
        worst = max(failed, key=lambda c: c.duration_s)
        note += f"; slowest failing check {worst.duration_s:.2f}s ({label(worst)})"
    return result.seconds, note


def detect(project: BenchProject, service: str, workdir: Path) -> tuple[float, str]:
    """Kill `service`, run smoke; its wall time and a note on what failed."""
    project.kill(service)
    return timed_red_smoke(project, service, workdir / f"detect-{service}.json")


def heal(project: BenchProject) -> float:
    """`pulumi up --refresh` (what `make up` runs); every port must listen afterwards."""
    result = project.checked(project.up("--refresh"), "pulumi up --refresh (heal)")
    closed = project.closed_ports()
    if closed:
        raise BenchError(f"`pulumi up --refresh` did not restart {', '.join(closed)}")
    return result.seconds


def green(project: BenchProject, why: str) -> float:
    """A smoke run that must pass; its wall time."""
    result = project.smoke()
    if result.returncode != 0:
        tail = "\n".join(result.output.strip().splitlines()[-10:])
        raise BenchError(f"smoke is red {why}:\n{tail}")
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


def hung(report: Report, project: BenchProject, workdir: Path) -> None:
    """Freeze each service in turn, time smoke's red run, heal, and require green smoke."""
    for service in model.DETECTED_SERVICES:
        key = f"{model.HUNG_PREFIX}{service}"
        row = report.add(Measurement(key, model.REQUIRED[key]))
        heal_row = report.add(
            Measurement(f"heal_hung_{service}", f"after hung {service}", group="hung heal")
        )
        frozen = project.freeze(service)
        try:
            try:
                path = workdir / f"hung-{service}.json"
                seconds, row.note = timed_red_smoke(project, service, path)
                row.samples.append(seconds)
            except BenchError as exc:
                row.error = "see errors"
                report.fail(f"hung {service}", str(exc))
            heal_row.samples.append(heal(project))
        finally:
            survivors = project.thaw(frozen)
        if survivors:
            report.fail(f"hung {service}", f"the heal left the frozen pids {survivors} running")
        seconds = green(project, f"after healing a hung {service}")
        heal_row.note = f"then smoke green in {seconds:.2f} s"


def final_smoke(report: Report, project: BenchProject) -> None:
    """After all the kills and heals, the stack must be green again."""
    seconds = green(project, "after healing every service")
    label = "smoke after all heals (green)"
    report.add(Measurement("smoke_after_heal", label, [seconds], group="heal"))
