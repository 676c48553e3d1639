"""Memory of the idle local stack: the RSS of each server's process tree, read from /proc.

A server's tree is the pid its provider recorded (bench/project.py PID_FILES) plus every
descendant (Postgres' backends and background workers, gunicorn's worker). RSS counts pages
shared between processes of a tree once per process, so a tree's sum is an upper bound.

>>> descendants(1, {2: 1, 3: 2, 4: 9})
[1, 2, 3]
"""

from __future__ import annotations

import time
from pathlib import Path

from bench import model
from bench.model import Report
from bench.proc import BenchError
from bench.project import PID_FILES, BenchProject

PROC = Path("/proc")
NEW_SERVERS = ("jobs", "errors")  # added by issue 10
SETTLE_S = 1.0  # after `up` returns, let start-up work (imports, first syncs) finish


def parent_map(proc: Path = PROC) -> dict[int, int]:
    """pid -> parent pid of every process (field 4 of /proc/<pid>/stat)."""
    parents: dict[int, int] = {}
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    return parents


def descendants(root: int, parents: dict[int, int]) -> list[int]:
    """`root` and every process below it, root first, then in pid order level by level."""
    children: dict[int, list[int]] = {}
    for pid, ppid in sorted(parents.items()):
        children.setdefault(ppid, []).append(pid)
    tree, level = [root], [root]
    while level:
        level = [child for pid in level for child in children.get(pid, [])]
        tree += level
    return tree


def rss_kib(pid: int, proc: Path = PROC) -> int:
    """VmRSS of `pid` in KiB; 0 for a process that is gone or has none (a zombie)."""
    try:
        status = (proc / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def tree_rss_mb(root: int, parents: dict[int, int], proc: Path = PROC) -> tuple[float, int]:
    """The RSS sum of `root`'s tree in MB (10^6 bytes) and how many processes it has."""
    tree = descendants(root, parents)
    return sum(rss_kib(pid, proc) for pid in tree) * 1024 / 1e6, len(tree)


def share_note(per_service: dict[str, float], new: tuple[str, ...] = NEW_SERVERS) -> str:
    """How much of the total the named (new) servers take.

    >>> share_note({"redis": 10.0, "jobs": 60.0, "errors": 30.0})
    'jobs + errors: 90.0 MB of 100.0 MB (90%)'
    """
    total = sum(per_service.values())
    part = sum(per_service.get(name, 0.0) for name in new)
    percent = f"{100 * part / total:.0f}%" if total else "-"
    return f"{' + '.join(new)}: {part:.1f} MB of {total:.1f} MB ({percent})"


def idle_memory(report: Report, project: BenchProject) -> None:
    """One sample per service and of the total, on the stack the cold up just started."""
    time.sleep(SETTLE_S)
    parents = parent_map()
    per_service: dict[str, float] = {}
    for service in PID_FILES:
        pid = project.pid(service)
        if pid is None or pid not in parents:
            raise BenchError(f"memory: {service} has no running process (pid file {pid})")
        mb, count = tree_rss_mb(pid, parents)
        per_service[service] = mb
        label = f"{service} ({count} process{'es' if count > 1 else ''})"
        row = report.row(f"memory:{service}", label, group="memory")
        row.unit = "MB"
        row.samples.append(mb)
    total = report.row(model.MEMORY_TOTAL)
    total.unit = "MB"
    total.samples.append(sum(per_service.values()))
    total.note = share_note(per_service) + " (RSS: shared pages counted per process)"
