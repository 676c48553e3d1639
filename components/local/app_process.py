"""`AppProcess`: the app the local stack deploys, run as a process with the stack's env."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    UpdateResult,
)

from components.local import processes
from components.local.errors import LocalServerError
from components.local.server_provider import LocalServerProvider, LocalServerResource

SERVICE = "app"
PID_FILE = "app.pid"  # inside the data dir
HEALTH_DEADLINE_S = 30.0
APP_KEYS = ("command", "cwd", "port", "health_path", "env", "data_dir")


def _healthy(port: int, path: str) -> bool:
    import httpx

    try:
        response = httpx.get(f"http://{processes.HOST}:{port}{path}", timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code < 500 or response.status_code == 503


class AppProcessProvider(LocalServerProvider):
    """Starts the app detached, waits until its health path answers, stops it on delete."""

    REPLACE_KEYS = ()
    RESTART_KEYS = APP_KEYS

    def _running(self, props: dict[str, Any]) -> bool:
        port = int(props["port"])
        return processes.pid_alive(self._pid(props)) and processes.port_open(port)

    def _start(self, props: dict[str, Any]) -> dict[str, Any]:
        port = int(props["port"])
        data_dir = processes.guarded_data_dir(SERVICE, props["data_dir"])
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            part.replace("{port}", str(port)).replace("{python}", sys.executable)
            for part in shlex.split(props["command"])
        ]
        env = {**os.environ, **props["env"], "PORT": str(port)}
        with open(data_dir / "app.log", "ab") as log:
            # A session of its own: the engine kills the provider's process group when it exits.
            proc = subprocess.Popen(
                command,
                cwd=props["cwd"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        (data_dir / PID_FILE).write_text(str(proc.pid))
        try:
            processes.wait_until(
                SERVICE,
                lambda: proc.poll() is None and _healthy(port, props["health_path"]),
                f"an answer from http://{processes.HOST}:{port}{props['health_path']}",
                HEALTH_DEADLINE_S,
            )
        except LocalServerError:
            processes.stop_pid(proc.pid)
            raise LocalServerError(
                f"app: `{props['command']}` did not serve {props['health_path']} on port {port} "
                f"within {HEALTH_DEADLINE_S:g}s (exit code {proc.poll()}); see {data_dir}/app.log"
            ) from None
        return self._outputs(props)

    def _outputs(self, props: dict[str, Any]) -> dict[str, Any]:
        return {
            **{k: props[k] for k in APP_KEYS},
            "port": int(props["port"]),
            "url": f"http://{processes.HOST}:{int(props['port'])}",
            "running": True,
        }

    def _pid(self, props: dict[str, Any]) -> int | None:
        return processes.read_pid(Path(props["data_dir"]) / PID_FILE)

    def create(self, props: dict[str, Any]) -> CreateResult:
        processes.require_free_port(SERVICE, int(props["port"]), "appPort")
        return CreateResult(id_=f"app-{int(props['port'])}", outs=self._start(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        processes.stop_pid(self._pid(olds))
        return UpdateResult(outs=self._start(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        processes.stop_pid(self._pid(props))
        processes.remove_data_dir(SERVICE, props["data_dir"])


class AppProcess(LocalServerResource):
    """The locally deployed app: one process serving the app contract on 127.0.0.1."""

    url: pulumi.Output[str]
    running: pulumi.Output[bool]

    def __init__(
        self,
        name: str,
        *,
        command: str,
        cwd: str,
        port: int,
        health_path: str,
        data_dir: str,
        env: pulumi.Input[dict[str, str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {
            "command": command,
            "cwd": cwd,
            "port": port,
            "health_path": health_path,
            "data_dir": data_dir,
            "env": pulumi.Output.secret(env),
        }
        super().__init__(AppProcessProvider(), name, inputs, ("url", "running"), (), opts)
