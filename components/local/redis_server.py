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

from components.local import processes
from components.local.errors import LocalServerError
from components.local.server_provider import (
    LocalServerProvider,
    LocalServerResource,
    Secrets,
    ServerSettings,
)

SERVICE = "redis"
PID_FILE = "redis.pid"  # inside the data dir
SECRET_OUTPUTS = ("password", "url")
PROBE_TIMEOUT_S = 2.0


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
            # Bounded like the cloud cache (Upstash evicts too): a flood of keys evicts the least
            # recently used instead of growing without limit.
            "maxmemory 256mb",
            "maxmemory-policy allkeys-lru",
            f"user default on #{digest} ~* &* +@all",
            "",
        ]
    )


class RedisProvider(LocalServerProvider[ServerSettings]):
    """Runs one local redis-server; its password is generated at create and kept."""

    SERVICE = SERVICE
    PID_FILE = PID_FILE
    ID_PREFIX = "redis"
    SECRET_KEYS = ("password",)
    HOLDS = "every key"

    def new_secrets(self, s: ServerSettings) -> Secrets:
        return {"password": secrets.token_urlsafe(24)}

    def start(self, s: ServerSettings, keys: Secrets) -> Secrets:
        binary = shutil.which("redis-server")
        if binary is None:
            raise LocalServerError(
                "redis: redis-server is not installed; run scripts/bootstrap.sh "
                "(or: apt-get install redis-server)",
                service=SERVICE,
            )
        data_dir = processes.guarded_data_dir(SERVICE, str(s.data_dir), s.hints)
        config = _config(s.port, data_dir, keys["password"])
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
            raise LocalServerError(
                "redis: redis-server did not daemonize within 15s", service=SERVICE
            ) from None
        if proc.returncode != 0:
            output = (proc.stderr or proc.stdout).strip()[-500:]
            raise LocalServerError(
                f"redis: redis-server failed to start: {output}", service=SERVICE
            )
        processes.wait_until(
            SERVICE,
            lambda: self.probe(s, keys),
            f"redis-server answering PING on {processes.HOST}:{s.port}",
            hint=f"see {data_dir / 'redis.log'}",
        )
        return keys

    def probe(self, s: ServerSettings, keys: Secrets) -> bool:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        if not processes.port_open(s.port):
            return False
        client = redis.Redis(
            host=processes.HOST,
            port=s.port,
            password=keys.get("password"),
            socket_timeout=PROBE_TIMEOUT_S,
            socket_connect_timeout=PROBE_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def outputs(self, s: ServerSettings, keys: Secrets) -> dict[str, Any]:
        password = quote(keys["password"], safe="")
        return {"url": f"redis://default:{password}@{processes.HOST}:{s.port}/0"}


class RedisServer(LocalServerResource):
    """A local Redis server that requires a password (the `default` user's)."""

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    password: pulumi.Output[str]
    url: pulumi.Output[str]
    data_dir: pulumi.Output[str]
    running: pulumi.Output[bool]

    PROVIDER = RedisProvider
    SECRET_OUTPUTS = SECRET_OUTPUTS
