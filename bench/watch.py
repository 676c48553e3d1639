"""`mentora-infra watch` on the warm local stack (issue 24): one round's wall time, as the watch
itself reports it (`mentora_watch_round_duration_seconds`; the first round apart, since it pays
the checks' first connections), the RSS of the running watch between rounds (idle), and, with
`--every 5`, how long until a killed Redis is reported down and, once `up --refresh` healed
it, up again (`mentora_watch_check_up` of cache::test_ping).

The watch runs as the product runs it (its CLI, `--every 1 --textfile`), in a session of its
own, and is stopped with SIGINT (exit 130) whatever happens.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench import model
from bench.model import Measurement, Report
from bench.proc import BenchError, stop_child, until
from bench.project import BenchProject

EVERY_S = 1
START_DEADLINE_S = 30.0  # python, the outputs (`pulumi stack output`), the first round
POLL_S = 0.02


def metrics(path: Path) -> dict[str, float]:
    """Sample name -> value of the stack-wide samples of a watch textfile (no file: empty)."""
    try:
        text = path.read_text()
    except OSError:
        return {}
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if "check" not in sample.labels:
                found[sample.name] = sample.value
    return found


def rss_mb(pid: int) -> float:
    """The resident set of `pid` (VmRSS of /proc/<pid>/status), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS for pid {pid}")


def start_watch(project: BenchProject, every_s: int, textfile: Path) -> subprocess.Popen[str]:
    """The product's `watch local --every N --textfile F`, in a session of its own."""
    command = [sys.executable, "-c", "from gate.cli import main; main()", "watch", "local",
               "--every", str(every_s), "--textfile", str(textfile)]  # fmt: skip
    return subprocess.Popen(command, cwd=project.root, env=project.env(), text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip


def check_up(path: Path, service: str, check: str) -> float | None:
    """`mentora_watch_check_up` of one check in a watch textfile (None before its first round)."""
    try:
        text = path.read_text()
    except OSError:
        return None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "mentora_watch_check_up"
                and labels.get("check") == check
                and (labels.get("service") == service)
            ):
                return sample.value
    return None


def watch_transitions(report: Report, project: BenchProject, workdir: Path) -> None:
    """Redis killed while `watch --every 5` runs: seconds until reported down; then, once
    `up --refresh` has healed it, seconds until reported up (4 intervals at most are waited)."""
    every = model.WATCH_DETECT_EVERY_S
    textfile = workdir / "watch-transitions.prom"
    proc = start_watch(project, every, textfile)
    ping = ("cache", "test_ping")
    try:
        until(
            "watch: a first healthy round",
            lambda: check_up(textfile, *ping) == 1.0,
            START_DEADLINE_S,
        )
        project.kill("redis")
        down = until(
            "watch: redis reported down", lambda: check_up(textfile, *ping) == 0.0, 4 * every
        )
        project.checked(project.up("--refresh"), "heal")
        up = until("watch: redis reported up", lambda: check_up(textfile, *ping) == 1.0, 4 * every)
    finally:
        stop_child(proc, grace_s=5.0)
    for key, value in ((model.WATCH_DOWN, down), (model.WATCH_UP, up)):
        report.add(Measurement(key, model.REQUIRED[key], [value], note=f"--every {every}"))


def watch(report: Report, project: BenchProject, samples: int, workdir: Path) -> None:
    """`samples` rounds after the first: each round's time and the idle RSS after it."""
    textfile = workdir / "watch.prom"
    proc = start_watch(project, EVERY_S, textfile)
    first: list[float] = []
    rounds: list[float] = []
    idle: list[float] = []
    try:
        seen = 0.0
        deadline = time.monotonic() + START_DEADLINE_S + samples * (EVERY_S + 2)
        while len(rounds) < samples and time.monotonic() < deadline and proc.poll() is None:
            now = metrics(textfile)
            count = now.get("mentora_watch_rounds_total", 0.0)
            if count > seen:
                seen = count
                if now.get("mentora_watch_stack_up") != 1.0:
                    raise BenchError("watch: a check is down on the healthy stack")
                wall = now["mentora_watch_round_duration_seconds"]
                (first if count == 1 else rounds).append(wall)
                time.sleep(0.2)  # the round's threads have ended: the watch now idles
                idle.append(rss_mb(proc.pid))
            time.sleep(POLL_S)
        if len(rounds) < samples:
            raise BenchError(f"watch made {int(seen)} round(s) in time (exit {proc.poll()})")
    finally:
        stop_child(proc, grace_s=5.0)
    label = model.REQUIRED[model.WATCH_ROUND]
    report.add(Measurement(model.WATCH_ROUND, label, rounds, note=f"--every {EVERY_S}"))
    report.add(Measurement("watch_first_round", "watch: first round", first, group="watch"))
    report.add(Measurement(model.WATCH_RSS, model.REQUIRED[model.WATCH_RSS], idle, unit="MB"))
