"""`InngestDevServer`: the Inngest Dev Server (v1.0.0, Go-built) on 127.0.0.1, synced with the app.

The Dev Server keeps its state in memory: a restart (after a crash, on `pulumi up --refresh`)
starts with no event history; it syncs the app's functions again from `app_url` within
`POLL_INTERVAL_S`. The app and smoke reach it through the `url` output (the SDKs'
`INNGEST_BASE_URL`, with `INNGEST_DEV=1`); dev mode needs no event or signing key, and v1.0.0
cannot require one (no such flag; `POST /e/<key>` takes any non-empty key, `/v1/*` has no auth):
any local process can send events and read their payloads. Only binding is possible: `--host
127.0.0.1` puts its API and its internal listeners on loopback (README, "Local stack security").
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.local import go_tools, ownership, processes
from components.local.errors import ServerStartError
from components.local.server_provider import (
    LocalServerProvider,
    LocalServerResource,
    Secrets,
    ServerSettings,
)

SERVICE = "jobs"
MODULE = "github.com/inngest/inngest"
PID_FILE = "inngest.pid"  # inside the data dir
LOG_FILE = "inngest.log"
POLL_INTERVAL_S = 1  # default 5: a freshly started app would wait that long to be synced
# The executor's queue poll (default 150 ms): every step of a run waits up to one tick.
TICK_MS = 50
PROBE_TIMEOUT_S = 2.0
OUTPUTS = ("url", "version", "running")


GO_RUNTIME = {"GOGC": "25"}
"""Go's collector at 25% heap growth (default 100): an idle Dev Server keeps ~10 MB less
resident for a little more GC work; one runs per stack (docs/review.md)."""


def binary() -> Path:
    """The pinned Dev Server build (scripts/install-go-tool.sh inngest)."""
    return go_tools.tool_binary(SERVICE, "inngest", MODULE, "inngest")


def command(port: int, app_url: str) -> list[str]:
    """`inngest dev` on loopback, without autodiscovery, syncing only `app_url`."""
    return [
        str(binary()),
        "dev",
        "--host",
        processes.HOST,
        "--port",
        str(port),
        "--no-discovery",
        "--poll-interval",
        str(POLL_INTERVAL_S),
        "--tick",
        str(TICK_MS),
        "--sdk-url",
        app_url,
    ]


def probe(port: int, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """The Dev Server's version from its API (`GET /dev`), or None when it does not answer."""
    import httpx

    try:
        response = httpx.get(f"http://{processes.HOST}:{port}/dev", timeout=timeout_s)
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    version = body.get("version") if isinstance(body, dict) else None
    return str(version) if isinstance(version, str) and version else None


def _url(port: int) -> str:
    return f"http://{processes.HOST}:{port}"


@dataclass(frozen=True)
class InngestSettings(ServerSettings):
    """A Dev Server: the app endpoint it syncs functions from."""

    app_url: str = ""


class InngestDevServerProvider(LocalServerProvider[InngestSettings]):
    """Runs one local Inngest Dev Server; a new app URL restarts it."""

    SERVICE = SERVICE
    PID_FILE = PID_FILE
    SETTINGS = InngestSettings
    ID_PREFIX = "inngest"
    RESTART_KEYS = ("app_url",)

    def start(self, s: InngestSettings, keys: Secrets) -> Secrets:
        data_dir = processes.guarded_data_dir(SERVICE, str(s.data_dir), s.hints)
        log_path = data_dir / LOG_FILE
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as log:
            # A session of its own: the engine kills the provider's process group when it exits.
            proc = subprocess.Popen(
                command(s.port, s.app_url),
                env={**os.environ, **GO_RUNTIME},
                cwd=data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        (data_dir / PID_FILE).write_text(str(proc.pid))
        ownership.record_child(proc, data_dir, SERVICE)  # so a failed start is stopped
        hint = f"see {log_path}"

        def ready() -> bool:
            if proc.poll() is not None:  # fail fast instead of waiting out the deadline
                raise ServerStartError(
                    f"jobs: the Inngest Dev Server exited ({proc.returncode}); {hint}",
                    service=SERVICE,
                )
            return probe(s.port) is not None

        processes.wait_until(SERVICE, ready, f"an answer from GET {_url(s.port)}/dev", hint=hint)
        return keys

    def probe(self, s: InngestSettings, keys: Secrets) -> bool:
        return processes.port_open(s.port) and probe(s.port) is not None

    def outputs(self, s: InngestSettings, keys: Secrets) -> dict[str, Any]:
        return {"app_url": s.app_url, "url": _url(s.port), "version": probe(s.port) or ""}


class InngestDevServer(LocalServerResource):
    """A local Inngest Dev Server that runs the app's functions (events, crons, steps)."""

    url: pulumi.Output[str]
    version: pulumi.Output[str]
    running: pulumi.Output[bool]

    PROVIDER = InngestDevServerProvider
    OUTPUTS = OUTPUTS
