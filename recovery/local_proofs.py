"""The one proof the local drill adds to recovery/proofs.py's: page checksums of the stopped
scratch server (`pg_checksums --check` reads every page; PostgreSQL 18 enables data checksums
at initdb). The wheel has no `amcheck` extension, so proofs.py's integrity proof falls back to
comparing heap and index scan counts; this one reads every page of every relation.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from components.local.backup_daemon import pg_bin
from recovery.proofs import Proof


def checksums(pgdata: Path, user: dict[str, Any]) -> Proof:
    """`pg_checksums --check` of a stopped data dir, run as the server's own OS user."""
    start = time.monotonic()
    done = subprocess.run(
        [pg_bin("pg_checksums"), "--check", "-D", str(pgdata)],
        capture_output=True,
        text=True,
        timeout=600,
        **user,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    bad = next((line.strip() for line in lines if "Bad checksums" in line), "")
    detail = bad if done.returncode == 0 else (lines[-1] if lines else "no output")
    return Proof("checksums", done.returncode == 0, detail, time.monotonic() - start)
