"""`mentora-infra watch` (gate/watch.py) through the real smoke engine against dead ports and
silent listeners (no servers): transitions, metrics (parsed with prometheus_client's own
parser), redaction, `--once` exit codes, bad input, SIGTERM mid-round."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from gate import cli
from gate.watch import Watcher, WatchUsage, parse_every, redactor_for, serve
from smoke import outages
from smoke.outputs import StackOutputs
from smoke.report import CheckResult
from tests.unit.smoke.helpers import PG_PASSWORD, dead_outputs, free_port, leaked

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def samples(text: str, name: str) -> dict[str, float]:
    """`service::check` -> value of metric `name` in an exposition text."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[f"{sample.labels['service']}::{sample.labels['check']}"] = sample.value
    return found


@pytest.fixture
def dead() -> dict[str, Any]:
    return dead_outputs(free_port(), free_port(), free_port())


def watcher(raw: dict[str, Any], tmp_path: Path, lines: list[str]) -> Watcher:
    outputs = StackOutputs.from_json(raw, "test", "local")
    return Watcher("local", outputs, 2.0, redactor_for(outputs, {}), tmp_path / "m.prom",
                   lines.append)  # fmt: skip


def result(name: str, outcome: str, message: str = "") -> CheckResult:
    error = "CheckFailed" if outcome == "failed" else None
    return CheckResult(f"smoke/checks/cache.py::{name}", "cache", name, outcome,
                       latency_ms=12.5, error_class=error, message=message)  # fmt: skip


def test_transitions_up_down_up_with_cause_time_and_metrics(
    dead: dict[str, Any], tmp_path: Path
) -> None:
    lines: list[str] = []
    clock = iter([1000.0, 1060.0, 1120.0, 1180.0])
    w = watcher(dead, tmp_path, lines)
    w.clock = lambda: next(clock)
    w.record([result("test_ping", "passed")])
    assert lines == ["1970-01-01T00:16:40Z watch local: cache::test_ping new -> up"]
    w.record([result("test_ping", "failed", "cache: redis at 127.0.0.1:1 refused connection")])
    assert lines[1] == (
        "1970-01-01T00:17:40Z watch local: cache::test_ping up -> down "
        "(CheckFailed: cache: redis at 127.0.0.1:1 refused connection)"
    )
    text = (tmp_path / "m.prom").read_text()
    assert samples(text, "mentora_watch_check_up") == {"cache::test_ping": 0.0}
    assert samples(text, "mentora_watch_check_last_success_timestamp_seconds") == {
        "cache::test_ping": 1000.0
    }
    assert samples(text, "mentora_watch_check_latency_seconds") == {"cache::test_ping": 0.0125}
    assert not w.healthy
    w.record([result("test_ping", "failed", "still refused")])
    assert len(lines) == 2  # no transition: still down
    w.record([result("test_ping", "passed")])
    assert lines[2] == "1970-01-01T00:19:40Z watch local: cache::test_ping down -> up"
    text = (tmp_path / "m.prom").read_text()
    assert samples(text, "mentora_watch_check_up") == {"cache::test_ping": 1.0}
    assert samples(text, "mentora_watch_check_last_success_timestamp_seconds") == {
        "cache::test_ping": 1180.0
    }
    assert w.healthy
    assert not list(tmp_path.glob("m.prom.*"))  # the atomic write left no temporary file


def test_a_secret_in_a_failure_is_never_printed(dead: dict[str, Any], tmp_path: Path) -> None:
    lines: list[str] = []
    w = watcher(dead, tmp_path, lines)
    w.record([result("test_ping", "failed", f"auth failed for password {PG_PASSWORD}")])
    assert leaked("\n".join(lines)) == [] and "***" in lines[0]
    assert leaked((tmp_path / "m.prom").read_text()) == []


def test_a_round_through_the_engine_reports_every_read_only_check_down(
    dead: dict[str, Any], tmp_path: Path
) -> None:
    lines: list[str] = []
    w = watcher(dead, tmp_path, lines)
    # A stale outage from an earlier round must not stand in for this round's own finding.
    outages.record(f"127.0.0.1:{dead['redis_url'].rsplit(':', 1)[-1].split('/')[0]}",
                   "refused connection", "stale-earlier-round")  # fmt: skip
    started = time.monotonic()
    results = w.round()
    assert time.monotonic() - started < 5
    assert results.checks and all(r.outcome != "passed" for r in results.checks)
    ups = samples((tmp_path / "m.prom").read_text(), "mentora_watch_check_up")
    assert ups and set(ups.values()) == {0.0}
    assert "cache::test_ping" in ups
    assert "cache::test_set_get" not in ups  # it writes: never run by watch
    assert all(" new -> down (" in line for line in lines) and len(lines) == len(ups)
    assert not any("stale-earlier-round" in line for line in lines)
    assert leaked("\n".join(lines)) == []


def test_parse_every_and_its_refusals() -> None:
    assert [parse_every(t) for t in ("60s", "2", "1500ms", "5m", "1h")] == [
        60.0, 2.0, 1.5, 300.0, 3600.0,
    ]  # fmt: skip
    for bad in ("0", "0s", "500ms", "-1", "soon", ""):
        with pytest.raises(WatchUsage, match="--every"):
            parse_every(bad)


def outputs_file(raw: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(raw))
    return path


def test_bad_input_exits_2_naming_the_option_and_the_fix(
    dead: dict[str, Any], tmp_path: Path
) -> None:
    path = str(outputs_file(dead, tmp_path))
    cases = {
        ("--every", "0"): "--every",
        ("--metrics-port", "70000"): "--metrics-port",
        ("--textfile", str(tmp_path / "nowhere" / "m.prom")): "--textfile",
    }
    for args, named in cases.items():
        got = runner.invoke(cli.app, ["watch", "local", "--once", "--outputs-file", path, *args])
        assert got.exit_code == 2, got.output
        assert named in got.output and "pass" in got.output
    missing = runner.invoke(cli.app, ["watch", "local", "--outputs-file", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "cannot read outputs file" in missing.output


def test_a_metrics_port_in_use_is_bad_input() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(WatchUsage, match="--metrics-port"):
            serve(CollectorRegistry(), taken.getsockname()[1])


def test_once_exits_1_when_unhealthy_and_serves_metrics_on_loopback(
    dead: dict[str, Any], tmp_path: Path
) -> None:
    port = free_port()
    path = str(outputs_file(dead, tmp_path))
    got = runner.invoke(cli.app, ["watch", "local", "--once", "--outputs-file", path,
                                  "--metrics-port", str(port)])  # fmt: skip
    assert got.exit_code == 1, got.output
    assert "up -> down" not in got.output and "new -> down" in got.output
    assert leaked(got.output) == []
    with pytest.raises(httpx.ConnectError):  # the server was shut down with the watch
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)


def test_the_metrics_endpoint_serves_the_last_round(dead: dict[str, Any], tmp_path: Path) -> None:
    lines: list[str] = []
    w = watcher(dead, tmp_path, lines)
    port = free_port()
    server = serve(w.metrics.registry, port)
    try:
        w.record([result("test_ping", "passed")])
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        assert samples(body, "mentora_watch_check_up") == {"cache::test_ping": 1.0}
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_redis() -> Iterator[int]:
    """A listener that accepts (the kernel's backlog) and never answers: a hung Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_sigterm_mid_round_exits_130_within_the_grace(
    dead: dict[str, Any], tmp_path: Path, silent_redis: int
) -> None:
    raw = dead_outputs(free_port(), silent_redis, free_port())
    path = outputs_file(raw, tmp_path)
    command = [sys.executable, "-c", "from gate.cli import main; main()",
               "watch", "local", "--every", "1", "--outputs-file", str(path)]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "read-only checks every 1 s" in first, first
        time.sleep(0.2)  # the round now waits on the silent Redis (2 s timeout: 1.8 s to go)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 130, rest
    assert "stopped (SIGINT/SIGTERM)" in rest
    # An interrupted round records nothing (no transition line, no metric)...
    assert [line for line in rest.splitlines() if line.strip()] == [
        "watch local: stopped (SIGINT/SIGTERM)"
    ], rest
    # ...which proves the round did not end by the silent Redis's own timeout (that round would
    # have recorded `new -> down`). The stop is bounded by STOP_GRACE_S (1 s) plus the exit; the
    # bound here only catches a stop that waits far past it (1.85 s seen under four workers).
    assert took < 3.0, took
    assert leaked(rest) == []


def test_sigint_between_rounds_exits_130_at_once(dead: dict[str, Any], tmp_path: Path) -> None:
    path = outputs_file(dead, tmp_path)
    command = [sys.executable, "-c", "from gate.cli import main; main()",
               "watch", "local", "--every", "30s", "--outputs-file", str(path)]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    try:
        assert proc.stdout is not None
        while "new -> down" not in (line := proc.stdout.readline()):
            assert line, "watch ended before its first round"
        time.sleep(1.0)  # the round (dead ports: well under a second) is over: it sleeps
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 130 and "stopped (SIGINT/SIGTERM)" in rest, rest
    # Not the 30 s left of the wait: a stop that waited would take about 29 s. The rest is the
    # interpreter's exit (1.79 s seen under four workers on 2 cores).
    assert took < 5.0, took


def test_a_textfile_that_cannot_be_written_is_reported_and_the_watch_goes_on(
    dead: dict[str, Any], tmp_path: Path
) -> None:
    lines: list[str] = []
    w = watcher(dead, tmp_path, lines)
    w.textfile = tmp_path / "gone" / "m.prom"  # its folder removed after the start
    w.record([result("test_ping", "passed")])
    assert "cannot write --textfile" in lines[-1] and "No such file or directory" in lines[-1]
    w.record([result("test_ping", "failed", "refused")])
    assert any("up -> down" in line for line in lines)


def test_a_rotation_under_a_running_watch_is_followed_not_reported_down(
    dead: dict[str, Any], tmp_path: Path
) -> None:
    """`rotate` (or an `up` that moved a server) changes the outputs a running watch started
    with: its next round must read them again and check with them, not report every service
    down with revoked credentials for as long as it runs."""
    from smoke import engine

    lines: list[str] = []
    w = watcher(dead, tmp_path, lines)
    rotated_secret = "RotatedRedisPassw0rd-5e1f"
    rotated = StackOutputs.from_json(
        {**dead, "redis_url": f"redis://mentora_a:{rotated_secret}@127.0.0.1:6390/0"},
        "test", "local",
    )  # fmt: skip
    runs: list[str] = []

    def run(settings: engine.Settings) -> engine.Results:
        runs.append(settings.outputs.redis_url)
        if settings.outputs.redis_url == rotated.redis_url:
            return engine.Results([result("test_ping", "passed")])
        why = "cache: redis at 127.0.0.1:6390 rejected the credentials (are the outputs stale?)"
        return engine.Results([result("test_ping", "failed", why)])

    w.runner = run
    reads: list[int] = []
    w.reload = lambda: reads.append(1) or rotated
    w.round()
    assert runs == [dead["redis_url"], rotated.redis_url] and len(reads) == 1
    assert w.healthy and not [line for line in lines if "-> down" in line], lines
    assert any("outputs changed" in line for line in lines), lines
    assert w.outputs == rotated
    assert rotated_secret not in w.redactor.redact(f"url {rotated.redis_url}")  # masked too
    w.round()  # healthy: nothing read again
    assert len(reads) == 1 and len(runs) == 3


def test_a_real_outage_reads_the_outputs_once_and_is_reported(
    dead: dict[str, Any], tmp_path: Path
) -> None:
    from smoke import engine
    from smoke.outputs import OutputsError

    lines: list[str] = []
    w = watcher(dead, tmp_path, lines)
    down = engine.Results([result("test_ping", "failed", "cache: redis refused connection")])
    runs: list[int] = []
    w.runner = lambda _settings: runs.append(1) or down
    w.reload = lambda: w.outputs  # unchanged: the same round stands
    w.round()
    assert len(runs) == 1 and not w.healthy
    assert any("-> down" in line for line in lines)

    def broken() -> StackOutputs:
        raise OutputsError("pulumi stack output failed: no stack named 'local'")

    w.reload = broken  # a failed read keeps the outputs and the round's results
    w.round()
    assert len(runs) == 2 and not w.healthy
