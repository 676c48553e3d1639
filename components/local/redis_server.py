"""`RedisServer`: Debian's redis-server on 127.0.0.1 with a generated password."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import (
    CreateResult,
    UpdateResult,
)

from components.local import processes
from components.local.errors import LocalServerError
from components.local.server_provider import LocalServerProvider, LocalServerResource

SERVICE = "redis"
PID_FILE = "redis.pid"  # inside the data dir
SECRET_OUTPUTS = ("password", "url")


def _quoted(path: Path) -> str:
    # redis.conf strings: double quotes with backslash escapes, like JSON's for plain text.
    return json.dumps(str(path), ensure_ascii=False)


def _config(port: int, data_dir: Path, password: str) -> str:
    """redis.conf text for `redis-server -`; the password appears only as its sha256.

    >>> "secret" in _config(6390, Path("/tmp/r"), "secret")
    False
    """
    digest = hashlib.sha256(password.encode()).hexdigest()
    return "\n".join(
        [
            f"port {port}",
            f"bind {processes.HOST}",
            "protected-mode yes",
            "daemonize yes",
            f"dir {_quoted(data_dir)}",
            f"pidfile {_quoted(data_dir / PID_FILE)}",
            f"logfile {_quoted(data_dir / 'redis.log')}",
            "appendonly yes",
            # Every write reaches the disk before the reply: a crash loses nothing (local scale).
            "appendfsync always",
            "save 60 1000",
            f"user default on #{digest} ~* &* +@all",
            "",
        ]
    )


class RedisProvider(LocalServerProvider):
    """Creates, starts, checks, restarts and removes one local redis-server."""

    def _start(self, props: dict[str, Any], password: str) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise LocalServerError(
                "redis: redis-server is not installed; run scripts/bootstrap.sh "
                "(or: apt-get install redis-server)"
            )
        data_dir = processes.guarded_data_dir(SERVICE, props["data_dir"])
        config = _config(int(props["port"]), data_dir, password)
        try:
            # A session of its own: the engine kills the provider's process group when it exits.
            proc = subprocess.run(
                [binary, "-"],
                input=config,
                text=True,
                capture_output=True,
                timeout=15,
                start_new_session=True,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise LocalServerError("redis: redis-server did not daemonize within 15s") from None
        if proc.returncode != 0:
            output = (proc.stderr or proc.stdout).strip()[-500:]
            raise LocalServerError(f"redis: redis-server failed to start: {output}")
        processes.wait_until(
            SERVICE,
            lambda: self._running(props),
            f"redis-server accepting connections on {processes.HOST}:{props['port']}",
            hint=f"see {data_dir / 'redis.log'}",
        )

    def _pid(self, props: dict[str, Any]) -> int | None:
        return processes.read_pid(Path(props["data_dir"]) / PID_FILE)

    def _running(self, props: dict[str, Any]) -> bool:
        return processes.pid_alive(self._pid(props)) and processes.port_open(int(props["port"]))

    def _outputs(self, props: dict[str, Any], password: str) -> dict[str, Any]:
        port = int(props["port"])
        return {
            "port": port,
            "data_dir": props["data_dir"],
            "host": processes.HOST,
            "password": password,
            "url": f"redis://default:{quote(password, safe='')}@{processes.HOST}:{port}/0",
            "running": True,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        processes.require_free_port(SERVICE, int(props["port"]), "redisPort")
        processes.claim_data_dir(SERVICE, props["data_dir"])
        password = secrets.token_urlsafe(24)
        try:
            self._start(props, password)
        except BaseException:
            # Free the port; the folder stays for its log (the next create empties it).
            processes.stop_pid(self._pid(props))
            raise
        return CreateResult(id_=f"redis-{int(props['port'])}", outs=self._outputs(props, password))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if not self._running(news):
            self._start(news, olds["password"])
        return UpdateResult(outs=self._outputs(news, olds["password"]))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        processes.stop_pid(self._pid(props))
        processes.remove_data_dir(SERVICE, props["data_dir"])


class RedisServer(LocalServerResource):
    """A local Redis server that requires a password (the `default` user's)."""

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    password: pulumi.Output[str]
    url: pulumi.Output[str]
    data_dir: pulumi.Output[str]
    running: pulumi.Output[bool]

    def __init__(
        self, name: str, *, port: int, data_dir: str, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        inputs = {"port": port, "data_dir": data_dir}
        super().__init__(RedisProvider(), name, inputs, ("host", "running"), SECRET_OUTPUTS, opts)
