"""`WatchServer`: `mentora-infra watch` run as one of the local stack's servers.

The watch is started as a process (`python -c 'from gate.cli import main; main()' ... watch`):
components/ may not import gate/ or smoke/. It reads the stack's outputs from `outputs.json`
(mode 0600) in its data dir, written here from the resource's secret `outputs` setting: the
stack that creates it has no outputs yet (`pulumi stack output` would answer the previous
update's, or nothing on a first `up`), and no secret is put on its command line. It writes its
transition lines to `watch.log` and its metrics to `metrics.prom` (both in its data dir) and
serves them on 127.0.0.1:`port`.

Ready: its metrics answer and its first round wrote the textfile. Running (refresh): the metrics
answer and the textfile is younger than `stale_after_s` (a watch whose loop hangs while its
metrics thread still answers is hung). It holds no data: a replacement loses nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from components.local import ownership, processes
from components.local.env_file import write_private
from components.local.errors import ServerStartError
from components.local.server_provider import (
    LocalServerProvider,
    LocalServerResource,
    Secrets,
    ServerSettings,
)

SERVICE = "watch"
PID_FILE = "watch.pid"  # inside the data dir
LOG_FILE = "watch.log"
METRICS_FILE = "metrics.prom"
OUTPUTS_FILE = "outputs.json"
PROBE_TIMEOUT_S = 2.0
ROUND_DEADLINE_S = 10.0  # gate/watch.py ROUND_MIN_DEADLINE_S: a round may take this long
GATE = "from gate.cli import main; main()"
OUTPUTS = ("log_file", "metrics_url", "running")


@dataclass(frozen=True)
class WatchSettings(ServerSettings):
    """A watch: the stack it watches (its outputs, secret), its interval and the checkout."""

    stack: str = "local"
    every_s: int = 10
    repo: str = ""
    """The checkout whose `mentora-infra` runs (`--repo`)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """The stack's outputs, as `pulumi stack output --json --show-secrets` prints them."""


def command(s: WatchSettings) -> list[str]:
    """The watch's command line: no secret on it (the outputs are in a 0600 file)."""
    return [
        sys.executable,
        "-c",
        GATE,
        "--repo",
        s.repo,
        "watch",
        s.stack,
        "--every",
        str(s.every_s),
        "--metrics-port",
        str(s.port),
        "--textfile",
        str(s.data_dir / METRICS_FILE),
        "--outputs-file",
        str(s.data_dir / OUTPUTS_FILE),
    ]


def metrics_url(port: int) -> str:
    return f"http://{processes.HOST}:{port}/metrics"


def answers(port: int, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Whether the watch's metrics endpoint answers 200 with its metrics."""
    import httpx

    try:
        response = httpx.get(metrics_url(port), timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and "mentora_watch_rounds" in response.text


def stale_after_s(every_s: float) -> float:
    """How old the textfile may be before the watch counts as hung: two intervals and a round."""
    return 2 * every_s + ROUND_DEADLINE_S


def last_round_age(data_dir: Path, now: float | None = None) -> float | None:
    """Seconds since the watch last wrote its textfile (after each round); None before any."""
    try:
        mtime = (data_dir / METRICS_FILE).stat().st_mtime
    except OSError:
        return None
    return (time.time() if now is None else now) - mtime


class WatchServerProvider(LocalServerProvider[WatchSettings]):
    """Runs one `mentora-infra watch` process; new outputs or a new interval restart it."""

    SERVICE = SERVICE
    PID_FILE = PID_FILE
    SETTINGS = WatchSettings
    ID_PREFIX = "watch"
    RESTART_KEYS = ("outputs", "every_s", "stack", "repo")

    def start(self, s: WatchSettings, keys: Secrets) -> Secrets:
        data_dir = processes.guarded_data_dir(SERVICE, str(s.data_dir), s.hints)
        write_private(data_dir / OUTPUTS_FILE, json.dumps(s.outputs))
        (data_dir / METRICS_FILE).unlink(missing_ok=True)  # ready = this start's first round
        log_path = data_dir / LOG_FILE
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as log:
            # A session of its own: the engine kills the provider's process group when it exits.
            proc = subprocess.Popen(
                command(s),
                cwd=data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        (data_dir / PID_FILE).write_text(str(proc.pid))
        ownership.record_child(proc, data_dir, SERVICE)  # so a failed start is stopped
        hint = f"see {log_path}"

        def ready() -> bool:
            if proc.poll() is not None:  # fail fast instead of waiting out the deadline
                raise ServerStartError(
                    f"watch: `mentora-infra watch` exited ({proc.returncode}); {hint}",
                    service=SERVICE,
                )
            return last_round_age(data_dir) is not None and answers(s.port)

        processes.wait_until(
            SERVICE, ready, f"the watch's first round and {metrics_url(s.port)}", hint=hint
        )
        return keys

    def probe(self, s: WatchSettings, keys: Secrets) -> bool:
        age = last_round_age(s.data_dir)
        fresh = age is not None and age <= stale_after_s(s.every_s)
        return fresh and processes.port_open(s.port) and answers(s.port)

    def outputs(self, s: WatchSettings, keys: Secrets) -> dict[str, Any]:
        return {"log_file": str(s.data_dir / LOG_FILE), "metrics_url": metrics_url(s.port)}


class WatchServer(LocalServerResource):
    """A local `mentora-infra watch` of the stack: transitions in `log_file`, metrics served."""

    log_file: pulumi.Output[str]
    metrics_url: pulumi.Output[str]
    running: pulumi.Output[bool]

    PROVIDER = WatchServerProvider
    OUTPUTS = OUTPUTS
    SECRET_SETTINGS = ("outputs",)
