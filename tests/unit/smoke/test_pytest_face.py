"""pytest as the suite's face: the usual options work on the checks' items (-x, --lf, --co,
-m, JUnit with each check's own output and logs), an interrupted run still reports every
check, and no module of smoke/ reaches into pytest's internals."""

from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.unit.smoke.helpers import SMOKE_DIR, dead_outputs, free_port, run_smoke


def test_no_module_of_smoke_imports_pytests_internals() -> None:
    offenders = []
    for path in sorted(SMOKE_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "_pytest"]
    assert not offenders


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(dead_outputs(free_port(), free_port(), free_port())))
    return path


def cases_of(junit: Path) -> dict[str, ElementTree.Element]:
    root = ElementTree.parse(junit).getroot()
    return {f"{c.get('classname')}.{c.get('name')}": c for c in root.iter("testcase")}


def test_each_checks_logs_and_output_land_in_its_own_junit_entry(
    tmp_path: Path, outputs: Path
) -> None:
    junit = tmp_path / "smoke.xml"
    args = ("--outputs-file", outputs, "--junitxml", junit, "-o", "junit_logging=all")
    result = run_smoke(tmp_path, *args, "--log-level", "DEBUG")
    assert result.ret == 1, result.output
    cases = cases_of(junit)
    storage = [c for name, c in cases.items() if ".storage." in name]
    others = [c for name, c in cases.items() if ".storage." not in name]
    text = lambda c: ElementTree.tostring(c, encoding="unicode")  # noqa: E731
    # botocore logs only in the storage checks (each logs its own requests, at DEBUG).
    assert all("botocore" in text(c) for c in storage), text(storage[0])
    assert not any("botocore" in text(c) for c in others)


def test_dash_x_stops_at_the_first_failure(tmp_path: Path, outputs: Path) -> None:
    result = run_smoke(tmp_path, "--outputs-file", outputs, "-x")
    assert result.ret == 1
    last = result.stdout.strip().splitlines()[-1]
    assert "1 failed" in last and "passed" not in last, last
    assert "stopping after 1 failures" in result.stdout


def test_last_failed_reruns_only_the_failed_checks(tmp_path: Path, outputs: Path) -> None:
    def smoke(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", str(SMOKE_DIR), "--outputs-file", str(outputs)]
        command += ["-o", f"cache_dir={tmp_path / 'cache'}", *args]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    first = smoke("-q")
    failed = int(first.stdout.strip().splitlines()[-1].split(" failed")[0].split()[-1])
    again = smoke("--lf", "-q")
    last = again.stdout.strip().splitlines()[-1]
    assert f"{failed} failed" in last and "skipped" not in last, last


def test_collect_only_lists_every_check_and_runs_none(tmp_path: Path, outputs: Path) -> None:
    result = run_smoke(tmp_path, "--outputs-file", outputs, "--co", "-q", "-m", "writes")
    ids = [line for line in result.stdout.splitlines() if "::" in line]
    assert "smoke/checks/cache.py::test_set_get" in ids
    assert not any("test_ping" in i for i in ids)  # -m writes: reading checks deselected
    assert "smoke summary" not in result.stdout


@pytest.fixture
def silent_redis() -> Iterator[int]:
    """A port that accepts connections and never answers (a frozen server)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for sock in [server, *held]:
        sock.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_reports_every_check_with_its_outcome(
    tmp_path: Path, silent_redis: int, signum: signal.Signals
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dead_outputs(free_port(), silent_redis, free_port())))
    junit, report = tmp_path / "smoke.xml", tmp_path / "smoke.json"
    command = [sys.executable, "-m", "pytest", str(SMOKE_DIR), "--outputs-file", str(outputs),
               "--junitxml", str(junit), "--json-report", str(report), "--check-timeout", "20",
               "-p", "no:cacheprovider"]  # fmt: skip
    child = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not report.exists() and time.monotonic() < deadline:  # written as the run starts
        time.sleep(0.05)
    time.sleep(0.5)  # the cache checks now wait on the silent server
    os.kill(child.pid, signum)  # SIGINT: what the gate sends at its deadline
    out, _ = child.communicate(timeout=30)
    assert child.returncode == 2, out  # pytest's "interrupted"
    document = json.loads(report.read_text())
    assert document["passed"] is False and document["ended"] == f"interrupted ({signum.name})"
    by_service: dict[str, set[str]] = {}
    for check in document["checks"]:
        by_service.setdefault(check["service"], set()).add(check["outcome"])
    assert by_service["cache"] == {"interrupted"}
    assert by_service["database"] == {"failed"}  # finished before the signal: its real outcome
    assert len(document["checks"]) == len(cases_of(junit)) > 30  # JUnit lists every check too
    assert "interrupted" in out


def test_a_secret_a_check_logs_is_masked_in_terminal_junit_json_and_html(
    tmp_path: Path, outputs: Path
) -> None:
    """botocore logs each request's Authorization header (the access key id) at DEBUG: the
    storage checks log it while they run at the same time as the others."""
    from tests.unit.smoke.helpers import FAKE_SECRETS, leaked

    junit, report, html = tmp_path / "s.xml", tmp_path / "s.json", tmp_path / "s.html"
    args = ("--outputs-file", outputs, "--junitxml", junit, "--json-report", report)
    result = run_smoke(tmp_path, *args, "--html", html, "-o", "junit_logging=all",
                       "--log-level", "DEBUG", "-rA")  # fmt: skip
    assert result.ret == 1, result.output
    for where, text in (("terminal", result.output), ("junit", junit.read_text()),
                        ("json", report.read_text()), ("html", html.read_text())):  # fmt: skip
        assert not leaked(text, FAKE_SECRETS), f"secret in the {where} report"
        assert "Credential=***" in text, f"{where}: the log line is masked, not dropped"


def test_a_run_that_checked_nothing_never_reports_passed(tmp_path: Path, outputs: Path) -> None:
    report = tmp_path / "smoke.json"
    run_smoke(tmp_path, "--outputs-file", outputs, "--json-report", report, "-k", "no_such_check")
    document = json.loads(report.read_text())
    assert document["checks"] == [] and document["passed"] is False
    assert document["ended"].startswith("stopped before any check ran")
