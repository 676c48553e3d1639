"""The sweep of scratch folders left by killed drills removes only orphans, and signals only a
process its record still proves: never a live drill's folder, a folder being created, or a
process that reused a recorded pid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from components.local.ownership import Owner
from recovery.scratch_orphans import HOLDER, PREFIX, mark_holder, sweep


def scratch_dir(parent: Path, name: str) -> Path:
    base = parent / f"{PREFIX}{name}"
    (base / "pgdata").mkdir(parents=True)
    return base


def dead_holder(base: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (base / HOLDER).write_text(json.dumps({"pid": int(gone.stdout), "started": 1.0}))


def test_a_live_drill_s_folder_and_a_young_unmarked_one_are_left_alone(tmp_path: Path) -> None:
    mine = scratch_dir(tmp_path, "live")
    mark_holder(mine)  # this test process holds it
    fresh = scratch_dir(tmp_path, "fresh")  # being created: no holder record yet
    assert sweep(tmp_path) == []
    assert mine.is_dir() and fresh.is_dir()


def test_an_orphan_is_removed_and_an_old_unmarked_folder_too(tmp_path: Path) -> None:
    orphan = scratch_dir(tmp_path, "orphan")
    dead_holder(orphan)
    old = scratch_dir(tmp_path, "old")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    other = tmp_path / "mentora-pgtest-x"  # another tool's folder: not ours to sweep
    other.mkdir()
    assert sorted(sweep(tmp_path)) == sorted([str(old), str(orphan)])
    assert not orphan.exists() and not old.exists() and other.is_dir()


def test_a_process_that_reused_the_recorded_pid_is_not_signalled(tmp_path: Path) -> None:
    orphan = scratch_dir(tmp_path, "reused")
    dead_holder(orphan)
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        # The record names the stranger's pid, with another start time and command line: what
        # a recycled pid looks like.
        proc = psutil.Process(stranger.pid)
        Owner(
            pid=stranger.pid,
            started=proc.create_time() - 100,
            exe=proc.exe(),
            cmdline=("postgres", "-D", str(orphan / "pgdata")),
            pgid=os.getpgid(stranger.pid),
            data_dir=os.path.realpath(orphan / "pgdata"),
        ).save()
        assert sweep(tmp_path) == [str(orphan)]
        assert stranger.poll() is None  # still running: never signalled
    finally:
        stranger.kill()
        stranger.wait(5)
