"""`mentora-infra watch` against a live local stack (a throwaway copy on free ports): `--once`
exits 0 when healthy; a running `watch --every 2` reports a killed Redis down (transition line
and metric 0) and up again after `pulumi up --refresh` (what `make up` runs) heals it."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from devtools.project import LocalProject

GATE = ("-c", "from gate.cli import main; main()")
EVERY_S = 2.0


@pytest.fixture(scope="module")
def running(local_project: LocalProject) -> LocalProject:
    local_project.up()
    return local_project


class Watch:
    """A `watch` process of the copy, its output lines read into a queue as they come."""

    def __init__(self, project: LocalProject, *args: str) -> None:
        command = [sys.executable, *GATE, "watch", "local", *args]
        self.proc = subprocess.Popen(command, cwd=project.root, env=project.env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, within_s: float) -> tuple[str, float]:
        """The first line containing `text`, and how long it took to come."""
        started = time.monotonic()
        end = started + within_s
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return line, time.monotonic() - started
        raise AssertionError(f"no line with {text!r} within {within_s}s:\n" + "\n".join(self.seen))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


@pytest.fixture
def watch(running: LocalProject, tmp_path: Path) -> Iterator[tuple[Watch, Path]]:
    textfile = tmp_path / "watch.prom"
    process = Watch(running, "--every", f"{EVERY_S:g}", "--textfile", str(textfile))
    yield process, textfile
    process.stop()


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


def test_watch_sees_a_killed_server_and_its_heal(
    running: LocalProject, watch: tuple[Watch, Path]
) -> None:
    process, textfile = watch
    process.wait_for("cache::test_ping new -> up", within_s=15)
    running.kill_server("redis")
    line, took = process.wait_for("cache::test_ping up -> down", within_s=3 * EVERY_S + 2)
    print(f"\ndown after {took:.1f}s: {line}")
    assert "refused connection" in line and "Z watch local:" in line
    assert up_metric(textfile, "cache::test_ping") == 0.0
    running.up("--refresh")
    line, took = process.wait_for("cache::test_ping down -> up", within_s=3 * EVERY_S + 2)
    print(f"up {took:.1f}s after the heal: {line}")
    assert up_metric(textfile, "cache::test_ping") == 1.0
    assert process.stop() == 130
