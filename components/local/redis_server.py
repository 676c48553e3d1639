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
    Managed,
    Secrets,
    ServerSettings,
)

SERVICE = "redis"
PID_FILE = "redis.pid"  # inside the data dir
SECRET_OUTPUTS = ("password", "url")
PROBE_TIMEOUT_S = 2.0
# What the server is started with and `observe` reads back (`CONFIG GET` names -> values).
MANAGED_CONFIG = {
    "bind": processes.HOST,
    "protected-mode": "yes",
    "appendonly": "yes",
    # Every write reaches the disk before the reply: a crash loses nothing (local scale).
    "appendfsync": "always",
    "save": "60 1000",
    # Bounded like the cloud cache (Upstash evicts too): a flood of keys evicts the least
    # recently used instead of growing without limit.
    "maxmemory": str(256 * 1024 * 1024),
    "maxmemory-policy": "allkeys-lru",
}
DEFAULT_USER_RULES = "on ~* &* +@all"
PASSWORD_OURS = "the stack's password only"


def _quoted(path: Path) -> str:
    # redis.conf strings: double quotes with backslash escapes, like JSON's for plain text.
    return json.dumps(str(path), ensure_ascii=False)


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def _config(port: int, data_dir: Path, password: str) -> str:
    """redis.conf text for `redis-server -`; the password appears only as its sha256.

    >>> "secret" in _config(6390, Path("/tmp/r"), "secret")
    False
    """
    digest = _digest(password)
    return "\n".join(
        [
            f"port {port}",
            f"bind {processes.HOST}",
            "daemonize yes",
            f"dir {_quoted(data_dir)}",
            f"pidfile {_quoted(data_dir / PID_FILE)}",
            f"logfile {_quoted(data_dir / 'redis.log')}",
            *(f"{k} {v}" for k, v in MANAGED_CONFIG.items() if k != "bind"),
            f"user default {DEFAULT_USER_RULES} #{digest}",
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

    def _client(self, s: ServerSettings, keys: Secrets) -> Any:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis(
            host=processes.HOST,
            port=s.port,
            password=keys.get("password"),
            socket_timeout=PROBE_TIMEOUT_S,
            socket_connect_timeout=PROBE_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )

    def probe(self, s: ServerSettings, keys: Secrets) -> bool:
        import redis

        if not processes.port_open(s.port):
            return False
        client = self._client(s, keys)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def acl_users(self, keys: Secrets) -> list[str]:
        """The ACL users the stack makes (from its secrets); any other user is drift, which
        `repair` deletes."""
        return ["default"]

    def expected(self, s: ServerSettings, keys: Secrets) -> Managed:
        return {
            **super().expected(s, keys),
            **MANAGED_CONFIG,
            "port": str(s.port),
            "auth": PASSWORD_OURS,
            "acl users": ",".join(sorted(self.acl_users(keys))),
        }

    def observe(self, s: ServerSettings, keys: Secrets) -> Managed:
        """Listening address, the config it was started with, whether the stack's password is
        the default user's only one (compared as sha256 digests) and the ACL users."""
        import redis

        seen = super().observe(s, keys)
        if not processes.port_open(s.port):
            return seen
        client = self._client(s, keys)
        try:
            config: dict[str, str] = {}
            for name in (*MANAGED_CONFIG, "port"):
                config.update(client.config_get(name))
            default = client.acl_getuser("default") or {}
            users = sorted(client.acl_users())
        except redis.AuthenticationError:
            return {**seen, "auth": "the stack's password is refused (settings unreadable)"}
        except redis.RedisError:
            return seen  # cannot tell now; `running` says whether it answers
        finally:
            client.close()
        ours = _digest(keys.get("password", ""))
        others = [p for p in default.get("passwords") or [] if p != ours]
        auth = PASSWORD_OURS if not others else f"the stack's + {len(others)} other password(s)"
        return {
            **seen,
            **{k: str(config.get(k, "")) for k in (*MANAGED_CONFIG, "port")},
            "auth": auth,
            "acl users": ",".join(users),
        }

    def repair(self, s: ServerSettings, keys: Secrets, drifted: Managed) -> bool:
        """CONFIG SET each drifted setting, reset the default user to the stack's password
        alone, delete ACL users the stack did not make. Keys stay; no restart."""
        import redis

        if {"listen", "port", "bind"} & drifted.keys():
            return False  # a listener moves only with a restart
        client = self._client(s, keys)
        try:
            for name in MANAGED_CONFIG.keys() & drifted.keys():
                client.config_set(name, MANAGED_CONFIG[name])
            if "auth" in drifted:
                client.acl_setuser(
                    "default",
                    enabled=True,
                    reset_passwords=True,
                    hashed_passwords=[f"+{_digest(keys['password'])}"],
                    keys=["*"],
                    channels=["*"],
                    commands=["+@all"],
                )
            if "acl users" in drifted:
                extra = [u for u in client.acl_users() if u not in self.acl_users(keys)]
                if extra:
                    client.acl_deluser(*extra)
        except redis.RedisError:
            return False  # e.g. our password refused: a restart applies everything again
        finally:
            client.close()
        return True

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
