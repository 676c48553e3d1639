"""Credential rotation under load (issue 23): each local kind rotated by `mentora-infra rotate`
while a paced load (75 requests/s offered over /api/health and /api/storage, devtools/load.py) runs;
the row is the number of failed requests (target 0). Then `rotate all`, timed (target 30 s)."""

from __future__ import annotations

from bench import model
from bench.model import Measurement, Report
from bench.project import BenchProject
from components.local.processes import HOST
from devtools.load import Load

RATE = 75.0  # offered; the row notes what the app answered


def _rotate(project: BenchProject, what: str) -> tuple[float, int, str, int]:
    load = Load(f"http://{HOST}:{project.port('app')}", rate=RATE).start()
    result = project.gate("rotate", "local", what, timeout=300)
    seen = load.stop()
    return result.seconds, result.returncode, seen.summary(), seen.failed


def rotation(report: Report, project: BenchProject) -> None:
    """One row per kind (failed requests), one for `rotate all` (seconds)."""
    for kind in model.ROTATED_KINDS:
        seconds, code, summary, failed = _rotate(project, kind)
        row = report.add(
            Measurement(
                f"{model.ROTATE_FAILED_PREFIX}{kind}",
                f"rotate {kind} under {RATE:g} req/s: failed requests",
                unit="failed",
            )
        )
        row.note = f"rotate exit {code} in {seconds:.1f} s; {summary}"
        if code == 0:
            row.samples.append(float(failed))
        else:  # unmeasured: a failed rotation says nothing about dropped requests
            row.error = f"rotate {kind} exited {code}"
    seconds, code, summary, failed = _rotate(project, "all")
    row = report.add(Measurement(model.ROTATE_ALL, "`rotate all` wall time, under load"))
    row.samples.append(seconds)
    row.note = f"exit {code}; {failed} failed; {summary}"
    if code != 0:
        row.error = f"rotate all exited {code}"
