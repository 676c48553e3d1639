"""The local watch server's lifecycle against a stand-in for `mentora-infra watch` (a small
script that takes the real command line, serves `/metrics` and rewrites its textfile every
interval): create waits for the first round, the outputs reach it through a 0600 file and never
its command line, refresh sees it dead or hung, update heals it, delete leaves no process.
(Refusals, diff and pickling: test_provider_contract.py; the real watch: the integration test.)"""

from __future__ import annotations

import os
import signal
import socket
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from components.local import ownership
from components.local.watch_server import (
    LOG_FILE,
    METRICS_FILE,
    OUTPUTS_FILE,
    WatchServerProvider,
    command,
    stale_after_s,
)

SECRET = "pw-9f8e7d6c5b4a"
# Reads the real command line (`-c <code> --repo R watch S --every N --metrics-port P --textfile
# T --outputs-file O`), checks the outputs file, then serves and rounds like the watch.
FAKE_WATCH = f"""#!{sys.executable}
import http.server, json, os, sys, threading, time
args = sys.argv[sys.argv.index("watch") + 2:]
opt = dict(zip(args[::2], args[1::2]))
outputs = json.load(open(opt["--outputs-file"]))
assert outputs["database_url"].endswith("@127.0.0.1:1/db"), outputs
class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"mentora_watch_rounds_total 1.0\\n"
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", int(opt["--metrics-port"])), Metrics)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("watch local: read-only checks every", opt["--every"], "s", flush=True)
while True:
    if not os.path.exists(os.path.join(os.path.dirname(opt["--textfile"]), "freeze")):
        open(opt["--textfile"], "w").write("mentora_watch_stack_up 1\\n")
    time.sleep(float(opt["--every"]))
"""


@pytest.fixture
def fake_watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "python"
    script.write_text(FAKE_WATCH)
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(script))
    return script


@pytest.fixture
def props(state_dir: Path) -> Iterator[dict[str, Any]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    outputs = {"target": "local", "database_url": f"postgresql://app:{SECRET}@127.0.0.1:1/db"}
    props = {"port": port, "data_dir": str(state_dir / "watch"), "stack": "local",
             "every_s": 1, "repo": str(state_dir), "outputs": outputs}  # fmt: skip
    yield props
    ownership.stop(ownership.find(state_dir / "watch", port), "watch", grace_s=0)


def watch_process(props: dict[str, Any]) -> psutil.Process:
    owner = ownership.find(Path(props["data_dir"]), props["port"])
    assert owner is not None and (proc := owner.process()) is not None
    return proc


def gone(proc: psutil.Process) -> bool:
    """Exited (this test process spawned it, so it may linger as a zombie until reaped)."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_command_line_carries_no_output_and_no_secret(props: dict[str, Any]) -> None:
    line = command(WatchServerProvider().settings(props))
    assert SECRET not in " ".join(line) and "postgresql" not in " ".join(line)
    assert line[line.index("--outputs-file") + 1] == f"{props['data_dir']}/{OUTPUTS_FILE}"
    assert line[line.index("--every") + 1] == "1"
    assert line[line.index("--metrics-port") + 1] == str(props["port"])
    assert line[line.index("--repo") + 1] == props["repo"]


def test_create_starts_it_with_the_outputs_in_a_private_file(
    fake_watch: Path, props: dict[str, Any]
) -> None:
    provider = WatchServerProvider()
    result = provider.create(props)
    data_dir = Path(props["data_dir"])
    assert result.outs["running"] is True
    assert result.outs["log_file"] == str(data_dir / LOG_FILE)
    assert result.outs["metrics_url"] == f"http://127.0.0.1:{props['port']}/metrics"
    assert stat.S_IMODE((data_dir / OUTPUTS_FILE).stat().st_mode) == 0o600
    assert SECRET in (data_dir / OUTPUTS_FILE).read_text()
    proc = watch_process(props)
    assert SECRET not in " ".join(proc.cmdline())
    assert "read-only checks every 1 s" in (data_dir / LOG_FILE).read_text()
    assert provider.read(result.id, {**result.outs}).outs["running"] is True


def test_refresh_sees_it_dead_and_update_heals_it(fake_watch: Path, props: dict[str, Any]) -> None:
    provider = WatchServerProvider()
    outs = provider.create(props).outs
    first = watch_process(props)
    first.kill()
    first.wait(5)
    read = provider.read("watch-1", outs).outs
    assert read["running"] is False
    assert provider.diff("watch-1", read, props).changes
    healed = provider.update("watch-1", read, props).outs
    assert healed["running"] is True
    assert watch_process(props).pid != first.pid
    assert provider.read("watch-1", healed).outs["running"] is True


def test_refresh_sees_it_hung_when_its_rounds_stop(fake_watch: Path, props: dict[str, Any]) -> None:
    provider = WatchServerProvider()
    outs = provider.create(props).outs
    data_dir = Path(props["data_dir"])
    (data_dir / "freeze").write_text("")  # the loop stops writing; its metrics still answer
    old = time.time() - stale_after_s(1) - 1
    os.utime(data_dir / METRICS_FILE, (old, old))
    assert provider.read("watch-1", outs).outs["running"] is False


def test_refresh_sees_a_stopped_watch_not_running(fake_watch: Path, props: dict[str, Any]) -> None:
    provider = WatchServerProvider()
    outs = provider.create(props).outs
    proc = watch_process(props)
    proc.send_signal(signal.SIGSTOP)
    # The signal is delivered asynchronously: on a busy machine the read could come first.
    deadline = time.monotonic() + 10
    while proc.status() != psutil.STATUS_STOPPED and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    assert provider.read("watch-1", outs).outs["running"] is False
    assert time.monotonic() - started < 1.0  # no probe timeout (2 s) waited out
    healed = provider.update("watch-1", {**outs, "running": False}, props).outs
    assert healed["running"] is True and gone(proc)


def test_delete_stops_it_and_removes_its_folder(fake_watch: Path, props: dict[str, Any]) -> None:
    provider = WatchServerProvider()
    outs = provider.create(props).outs
    proc = watch_process(props)
    provider.delete("watch-1", outs)
    assert gone(proc)
    assert not Path(props["data_dir"]).exists()
