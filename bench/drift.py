"""`mentora-infra drift local` on the warm, clean local stack (issue 23): its wall time from
spawn to exit (the product's CLI in its own process: Python, the gate lock, `pulumi refresh
--preview-only`, every server's read), and proof that it wrote nothing: the stack's backend
files (checkpoint, backup, history) are byte-identical after each run.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

from bench import model
from bench.model import Measurement, Report
from bench.proc import BenchError
from bench.project import BenchProject

DEADLINE_S = 120.0


def backend_digest(root: Path) -> str:
    """One sha256 over every file of the stack's backend, names and bytes."""
    digest = hashlib.sha256()
    backend = root / ".pulumi-local" / "backend"
    for path in sorted(p for p in backend.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(backend)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def drift(report: Report, project: BenchProject, samples: int) -> None:
    """`samples` runs of `drift local`: each must exit 0 (clean) leaving the backend as it was."""
    command = [sys.executable, "-c", "from gate.cli import main; main()", "drift", "local"]
    walls: list[float] = []
    for _ in range(samples):
        before = backend_digest(project.root)
        start = time.monotonic()
        done = subprocess.run(command, cwd=project.root, env=project.env(), text=True,
                              capture_output=True, timeout=DEADLINE_S, stdin=subprocess.DEVNULL,
                              start_new_session=True, check=False)  # fmt: skip
        walls.append(time.monotonic() - start)
        if done.returncode != 0:
            last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["?"]
            raise BenchError(f"drift on the clean stack exited {done.returncode}: {last[0]}")
        if backend_digest(project.root) != before:
            raise BenchError("drift changed the stack's backend files (it must write nothing)")
    note = "exit 0; backend byte-identical after every run"
    report.add(Measurement(model.DRIFT, model.REQUIRED[model.DRIFT], walls, note=note))
