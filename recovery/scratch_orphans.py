"""Scratch servers whose drill was killed (SIGKILL, a lost machine session): found and removed
by the next scratch start, never touching anything that is not provably one of them.

Each scratch folder records its holder (the drill process: pid + start time, `.holder.json`)
and, once its server runs, the server's identity (`components.local.ownership.Owner`: pid, start
time, executable, exact argv, beside `pgdata`). A folder is an orphan when its holder no longer
runs; its server is stopped only when the record still proves it (a reused pid is left alone),
then the folder and its OS user are removed. A folder without a holder record yet is left alone
while it is young (a scratch being created right now).

>>> sweep(Path(tempfile.gettempdir()))  # doctest: +SKIP
['/tmp/mentora-scratch-3k2j1h']
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path

import psutil

from components.local import ownership
from components.local.errors import LocalServerError
from components.local.unix_user import remove_service_user

PREFIX = "mentora-scratch-"
HOLDER = ".holder.json"
YOUNG_S = 300.0
SERVICE = "scratch postgres"


def mark_holder(base: Path) -> None:
    """Record this process as the holder of the scratch folder `base`."""
    me = psutil.Process()
    (base / HOLDER).write_text(json.dumps({"pid": me.pid, "started": me.create_time()}))


def _holder_runs(base: Path) -> bool | None:
    """Whether the recorded holder still runs; None when there is no readable record."""
    try:
        raw = json.loads((base / HOLDER).read_text())
        pid, started = int(raw["pid"]), float(raw["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        return psutil.Process(pid).create_time() == started
    except psutil.Error:
        return False


def sweep(parent: Path) -> list[str]:
    """Remove every orphaned scratch folder under `parent`; the folders removed."""
    removed: list[str] = []
    for base in sorted(parent.glob(f"{PREFIX}*")):
        with contextlib.suppress(OSError):
            if not base.is_dir():
                continue
            runs = _holder_runs(base)
            young = time.time() - base.stat().st_mtime < YOUNG_S
            if runs or (runs is None and young):
                continue
            # Owner.load refuses a record naming another folder; processes() refuses a pid
            # that now belongs to another program.
            try:
                ownership.stop(ownership.Owner.load(base / "pgdata"), SERVICE, grace_s=0)
            except LocalServerError:
                continue  # survived SIGKILL: its folder stays, the next sweep tries again
            shutil.rmtree(base, ignore_errors=True)
            remove_service_user(base)
            removed.append(os.fspath(base))
    return removed
