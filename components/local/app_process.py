"""`AppProcess`: the app the local stack deploys, run as a process with the stack's env."""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from components.local import ownership, processes
from components.local.errors import LocalServerError
from components.local.server_provider import (
    LocalServerProvider,
    LocalServerResource,
    Secrets,
    ServerSettings,
)

SERVICE = "app"
PID_FILE = "app.pid"  # inside the data dir
HEALTH_DEADLINE_S = 30.0
APP_KEYS = ("command", "cwd", "port", "health_path", "env", "data_dir", "source_digest")


def source_digest(folder: Path) -> str:
    """sha256 over the relative names and bytes of every file below `folder` (caches left
    out): it changes exactly when the app's code does.

    >>> len(source_digest(Path("reference_app")))
    16
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts or path.suffix in (".pyc", ".log"):
            continue
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


# A start waits for the health path, longer than the app's own probes of its dependencies (2 s):
# an app whose database hangs answers 503 after 2 s, which still means the app is up.
PROBE_TIMEOUT_S = 3.0


LIVENESS_PATH = "/.mentora-liveness"  # no app serves it: any answer proves the server runs


def _answers(port: int, timeout_s: float = 2.0) -> bool:
    """Whether the HTTP server on `port` answers a request at all (any status)."""
    import httpx

    try:
        httpx.get(f"http://{processes.HOST}:{port}{LIVENESS_PATH}", timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return True


def _healthy(port: int, path: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Whether the app answers its health path (503 counts: the app is up, a dependency not)."""
    import httpx

    try:
        response = httpx.get(f"http://{processes.HOST}:{port}{path}", timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return response.status_code < 500 or response.status_code == 503


@dataclass(frozen=True)
class AppSettings(ServerSettings):
    """The app's command line, folder, health path and environment."""

    command: str = ""
    cwd: str = "."
    health_path: str = "/api/health"
    env: dict[str, str] = field(default_factory=dict)
    source_digest: str = ""
    """Digest of the app's source files: new code restarts the app like new settings do."""


class AppProcessProvider(LocalServerProvider[AppSettings]):
    """Starts the app detached, waits until its health path answers, stops it on delete.

    Any change of its settings restarts it in place (its data dir only holds its log)."""

    SERVICE = SERVICE
    PID_FILE = PID_FILE
    SETTINGS = AppSettings
    ID_PREFIX = "app"
    REPLACE_KEYS = ()
    RESTART_KEYS = APP_KEYS

    def start(self, s: AppSettings, keys: Secrets) -> Secrets:
        data_dir = processes.guarded_data_dir(SERVICE, str(s.data_dir), s.hints)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        command = [
            part.replace("{port}", str(s.port)).replace("{python}", sys.executable)
            for part in shlex.split(s.command)
        ]
        env = {**os.environ, **s.env, "PORT": str(s.port)}
        log_path = data_dir / "app.log"
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as log:
            # A session of its own: the engine kills the provider's process group when it exits.
            proc = subprocess.Popen(
                command,
                cwd=s.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        (data_dir / PID_FILE).write_text(str(proc.pid))
        ownership.record_child(proc, data_dir, SERVICE)  # so a failed start below is stopped
        try:
            processes.wait_until(
                SERVICE,
                lambda: proc.poll() is None and _healthy(s.port, s.health_path),
                f"an answer from http://{processes.HOST}:{s.port}{s.health_path}",
                HEALTH_DEADLINE_S,
            )
        except LocalServerError:
            self.stop(s, grace_s=0)
            raise LocalServerError(
                f"app: `{s.command}` did not serve {s.health_path} on port {s.port} "
                f"within {HEALTH_DEADLINE_S:g}s (exit code {proc.poll()}); see {log_path}",
                service=SERVICE,
            ) from None
        return keys

    def probe(self, s: AppSettings, keys: Secrets) -> bool:
        """Whether the app's HTTP server answers at all (refresh: is it dead or hung?). Asked on a
        path no app serves, so the answer (a 404) never waits on the app's own dependencies: its
        health path answers 503 only after its 2 s database or cache timeout, which held up the
        heal of every hung dependency by as long. Readiness at start still waits for health."""
        return processes.port_open(s.port) and _answers(s.port)

    def outputs(self, s: AppSettings, keys: Secrets) -> dict[str, Any]:
        return {"url": f"http://{processes.HOST}:{s.port}"}


class AppProcess(LocalServerResource):
    """The locally deployed app: one process serving the app contract on 127.0.0.1."""

    url: pulumi.Output[str]
    running: pulumi.Output[bool]

    PROVIDER = AppProcessProvider
    OUTPUTS = ("url", "running")
    SECRET_SETTINGS = ("env",)
