"""`InngestDevServer`: the Inngest Dev Server (v1.0.0, Go-built) on 127.0.0.1, synced with the app.

The Dev Server keeps its state in memory: a restart (after a crash, on `pulumi up --refresh`)
starts with no event history; it syncs the app's functions again from `app_url` within
`POLL_INTERVAL_S`. The app and smoke reach it through the `url` output (the SDKs'
`INNGEST_BASE_URL`, with `INNGEST_DEV=1`); dev mode needs no event or signing key.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, UpdateResult

from components.local import go_tools, processes
from components.local.errors import LocalServerError, ServerStartError
from components.local.server_provider import LocalServerProvider, LocalServerResource

SERVICE = "jobs"
MODULE = "github.com/inngest/inngest"
PID_FILE = "inngest.pid"  # inside the data dir
LOG_FILE = "inngest.log"
POLL_INTERVAL_S = 1  # default 5: a freshly started app would wait that long to be synced
# The executor's queue poll (default 150 ms): every step of a run waits up to one tick.
TICK_MS = 50
PROBE_TIMEOUT_S = 2.0
OUTPUTS = ("url", "version", "running")


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


def start(props: dict[str, Any]) -> int:
    """Start the Dev Server detached and wait for its API; return its pid."""
    port = int(props["port"])
    data_dir = processes.guarded_data_dir(SERVICE, props["data_dir"])
    with open(data_dir / LOG_FILE, "ab") as log:
        # A session of its own: the engine kills the provider's process group when it exits.
        proc = subprocess.Popen(
            command(port, props["app_url"]),
            cwd=data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (data_dir / PID_FILE).write_text(str(proc.pid))
    hint = f"see {data_dir / LOG_FILE}"

    def ready() -> bool:
        if proc.poll() is not None:  # fail fast instead of waiting out the deadline
            code = proc.returncode
            raise ServerStartError(f"jobs: the Inngest Dev Server exited ({code}); {hint}")
        return probe(port) is not None

    try:
        processes.wait_until(SERVICE, ready, f"an answer from GET {_url(port)}/dev", hint=hint)
    except BaseException:
        stop(props)
        raise
    return proc.pid


def stop(props: dict[str, Any]) -> None:
    """SIGTERM (then SIGKILL) the Dev Server of this data dir, if it runs."""
    processes.stop_pid(processes.read_pid(Path(props["data_dir"]) / PID_FILE))


def _url(port: int) -> str:
    return f"http://{processes.HOST}:{port}"


class InngestDevServerProvider(LocalServerProvider):
    """Starts, probes, restarts and removes one local Inngest Dev Server."""

    REPLACE_KEYS = ("port", "data_dir")
    RESTART_KEYS = ("app_url",)

    def _running(self, props: dict[str, Any]) -> bool:
        pid = processes.read_pid(Path(props["data_dir"]) / PID_FILE)
        return processes.pid_alive(pid) and probe(int(props["port"])) is not None

    def _outputs(self, props: dict[str, Any]) -> dict[str, Any]:
        port = int(props["port"])
        return {
            "port": port,
            "data_dir": props["data_dir"],
            "app_url": props["app_url"],
            "url": _url(port),
            "version": probe(port) or "",
            "running": True,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        processes.require_free_port(SERVICE, int(props["port"]), "inngestPort")
        processes.claim_data_dir(SERVICE, props["data_dir"])
        start(props)
        return CreateResult(id_=f"inngest-{int(props['port'])}", outs=self._outputs(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("app_url") != news["app_url"] or not self._running(news):
            stop(olds)
            start(news)
        return UpdateResult(outs=self._outputs(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        stop(props)
        processes.remove_data_dir(SERVICE, props["data_dir"])


class InngestDevServer(LocalServerResource):
    """A local Inngest Dev Server that runs the app's functions (events, crons, steps)."""

    url: pulumi.Output[str]
    version: pulumi.Output[str]
    running: pulumi.Output[bool]

    def __init__(
        self,
        name: str,
        *,
        port: int,
        data_dir: str,
        app_url: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if not 1024 <= port <= 65535:
            raise LocalServerError(f"jobs: port={port} is out of range; use 1024-65535")
        inputs = {"port": port, "data_dir": data_dir, "app_url": app_url}
        super().__init__(InngestDevServerProvider(), name, inputs, OUTPUTS, (), opts)
