"""`mentora-infra watch` against a live local stack (a throwaway copy on free ports): `--once`
exits 0 when healthy; with `mentora:watch` the stack runs `watch --every 2` as one of its
servers, which reports a killed Redis down (transition line in its log, metric 0) and up again
after `pulumi up --refresh` (what `make up` runs) heals it; `destroy` leaves no watch."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devtools.project import LocalProject

GATE = ("-c", "from gate.cli import main; main()")


@pytest.fixture(scope="module")
def running(local_project: LocalProject) -> LocalProject:
    local_project.up()
    return local_project


def up_metric(textfile: Path, key: str) -> float:
    for family in text_string_to_metric_families(textfile.read_text()):
        for sample in family.samples:
            name = f"{sample.labels.get('service')}::{sample.labels.get('check')}"
            if sample.name == "mentora_watch_check_up" and name == key:
                return sample.value
    raise AssertionError(f"{key} not in {textfile}")


def test_once_exits_0_on_a_healthy_stack(running: LocalProject) -> None:
    started = time.monotonic()
    once = subprocess.run([sys.executable, *GATE, "watch", "local", "--once"], cwd=running.root,
                          env=running.env(), capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    output = once.stdout + once.stderr
    print(f"\nwatch --once on the healthy local stack: {time.monotonic() - started:.2f}s")
    assert once.returncode == 0, output[-3000:]
    assert "new -> up" in output and "down" not in output, output[-3000:]


def log_line(path: Path, text: str, within_s: float, after: int = 0) -> tuple[str, float]:
    """The first line of the watch's log (from byte `after`) containing `text`, and how long
    it took to appear."""
    started = time.monotonic()
    while True:
        lines = path.read_text()[after:].splitlines() if path.exists() else []
        found = [line for line in lines if text in line]
        if found:
            return found[0], time.monotonic() - started
        if time.monotonic() - started > within_s:
            raise AssertionError(f"no {text!r} in {path} within {within_s}s:\n" + "\n".join(lines))
        time.sleep(0.1)


def test_the_stack_runs_the_watch_as_a_server(running: LocalProject) -> None:
    """Last in this module: it ends by destroying the shared stack."""
    every = 2
    running.run("config", "set-all", "--plaintext", "mentora:watch=true",
                "--plaintext", f"mentora:watchEvery={every}")  # fmt: skip
    started = time.monotonic()
    running.up()
    print(f"\nup adding the watch: {time.monotonic() - started:.1f}s")
    outputs = json.loads(running.outputs(show_secrets=False).output)
    log = Path(outputs["watch_log"])
    textfile = running.state_dir / "watch" / "metrics.prom"
    assert log == running.state_dir / "watch" / "watch.log"
    assert outputs["watch_metrics_url"] == f"http://127.0.0.1:{running.ports['watchPort']}/metrics"
    log_line(log, "cache::test_ping new -> up", within_s=1)  # `up` waited for its first round
    # Its outputs file holds the secrets; the state keeps them encrypted, its argv has none.
    redis_url = next(line for line in running.env_file.read_text().splitlines()
                     if line.startswith("REDIS_URL="))  # fmt: skip
    password = redis_url.split("default:", 1)[1].split("@", 1)[0]
    assert password and password not in running.run("stack", "export").output
    pid = int((running.state_dir / "watch" / "watch.pid").read_text())
    assert password not in " ".join(psutil.Process(pid).cmdline())

    size = log.stat().st_size
    running.kill_server("redis")
    line, took = log_line(log, "cache::test_ping up -> down", within_s=2 * every + 2, after=size)
    print(f"down after {took:.1f}s: {line}")
    # Killed between rounds: refused; killed while a round held its connection: dropped.
    cause = re.search(
        r"redis at 127\.0\.0\.1:\d+ (refused connection|dropped the connection)", line
    )
    assert cause and "Z watch local:" in line, line
    assert up_metric(textfile, "cache::test_ping") == 0.0
    size = log.stat().st_size
    running.up("--refresh")  # what `make up` runs: heals redis, leaves the watch running
    line, took = log_line(log, "cache::test_ping down -> up", within_s=2 * every + 2, after=size)
    print(f"up {took:.1f}s after the heal: {line}")
    assert up_metric(textfile, "cache::test_ping") == 1.0
    assert int((running.state_dir / "watch" / "watch.pid").read_text()) == pid  # not restarted

    running.run("destroy", "--yes", "--skip-preview")
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (running.state_dir / "watch").exists()
    port = running.ports["watchPort"]
    listening = [c for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN]
    assert not [c for c in listening if c.laddr and c.laddr.port == port]
