"""`scripts/bootstrap.sh` when everything is already installed (what `make up` pays each time)."""

from __future__ import annotations

import re

from bench import model
from bench.model import Measurement, Report
from bench.proc import BenchError, run_timed
from devtools.project import REPO

# Lines of a bootstrap that did real work: such a run is a warm-up, not a cached sample.
_WORK = re.compile(r"installing|building|generating|creating", re.IGNORECASE)


def did_work(output: str) -> bool:
    """Whether the bootstrap installed or created something.

    >>> did_work("bootstrap: python deps: up to date (.venv)"), did_work("python deps: installing")
    (False, True)
    """
    return bool(_WORK.search(output))


def bootstrap(report: Report, samples: int) -> None:
    """Time `samples` cached runs; a first run that installs something is not counted."""
    row = report.add(Measurement(model.BOOTSTRAP, model.REQUIRED[model.BOOTSTRAP]))
    script = [str(REPO / "scripts" / "bootstrap.sh")]
    warmups = 0
    while len(row.samples) < samples:
        result = run_timed(script, cwd=REPO, timeout=1800)
        if result.returncode != 0:
            raise BenchError(f"scripts/bootstrap.sh exited {result.returncode}:\n{result.tail()}")
        if did_work(result.output):
            warmups += 1
            if warmups > 1:
                raise BenchError("scripts/bootstrap.sh still installs on its second run")
            continue
        row.samples.append(result.seconds)
    if warmups:
        row.note = "a first, installing run was not counted"
