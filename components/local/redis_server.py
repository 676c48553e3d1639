"""`RedisServer`: Debian's redis-server on 127.0.0.1 with a generated password.

The app logs in as the `default` user until its first rotation (`mentora-infra rotate`), as it
does on Upstash; from then on as an ACL user of its own, `mentora_a` or `mentora_b` in turn
(`app_login`, with `app_password`), while `default` keeps the stack's own `password` (the
provider's, drift's and rotation's). The server is started with exactly these users.
"""

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
SECRET_OUTPUTS = ("password", "app_password", "url")
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
ADMIN_USER = "default"
APP_USER_RULES = DEFAULT_USER_RULES  # as on Upstash (rotation/cloud_upstash.py RULES)
PASSWORD_OURS = "the stack's password only"


def _quoted(path: Path) -> str:
    # redis.conf strings: double quotes with backslash escapes, like JSON's for plain text.
    return json.dumps(str(path), ensure_ascii=False)


def digest(password: str) -> str:
    """How a password stands in Redis' ACL (`#<sha256>`): never in clear in a config or a
    command."""
    return hashlib.sha256(password.encode()).hexdigest()


def set_user(client: Any, user: str, rules: str, password: str) -> None:
    """`user` reset to exactly `rules` and `password` (the start config's `user` line, live)."""
    client.execute_command("ACL", "SETUSER", user, "reset", *rules.split(), f"#{digest(password)}")


def _config(port: int, data_dir: Path, keys: Secrets) -> str:
    """redis.conf text for `redis-server -`; passwords appear only as their sha256.

    >>> "secret" in _config(6390, Path("/tmp/r"), {"password": "secret"})
    False
    """
    return "\n".join(
        [
            f"port {port}",
            f"bind {processes.HOST}",
            "daemonize yes",
            f"dir {_quoted(data_dir)}",
            f"pidfile {_quoted(data_dir / PID_FILE)}",
            f"logfile {_quoted(data_dir / 'redis.log')}",
            *(f"{k} {v}" for k, v in MANAGED_CONFIG.items() if k != "bind"),
            *(f"user {user} {rules} #{digest(password)}" for user, rules, password in _users(keys)),
            "",
        ]
    )


def _users(keys: Secrets) -> list[tuple[str, str, str]]:
    """(user, rules, password) of every user the stack makes: `default`, and the app's own
    once a rotation gave it one."""
    users = [(ADMIN_USER, DEFAULT_USER_RULES, keys.get("password", ""))]
    if keys.get("app_login"):
        users.append((keys["app_login"], APP_USER_RULES, keys.get("app_password", "")))
    return users


class RedisProvider(LocalServerProvider[ServerSettings]):
    """Runs one local redis-server; its password is generated at create and kept."""

    SERVICE = SERVICE
    PID_FILE = PID_FILE
    ID_PREFIX = "redis"
    SECRET_KEYS = ("password", "app_password", "app_login")
    """`app_login`/`app_password`: the app's ACL user, absent until the first rotation."""
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
        config = _config(s.port, data_dir, keys)
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
            username=ADMIN_USER,
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
        return [user for user, _, _ in _users(keys)]

    def expected(self, s: ServerSettings, keys: Secrets) -> Managed:
        app = {"app auth": PASSWORD_OURS} if keys.get("app_login") else {}
        return {
            **super().expected(s, keys),
            **MANAGED_CONFIG,
            "port": str(s.port),
            "auth": PASSWORD_OURS,
            **app,
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
            found = {user: client.acl_getuser(user) for user, _, _ in _users(keys)}
            users = sorted(client.acl_users())
        except redis.AuthenticationError:
            return {**seen, "auth": "the stack's password is refused (settings unreadable)"}
        except redis.RedisError:
            return seen  # cannot tell now; `running` says whether it answers
        finally:
            client.close()
        auth = {
            ("auth" if user == ADMIN_USER else "app auth"): _auth(found.get(user), password)
            for user, _, password in _users(keys)
        }
        return {
            **seen,
            **{k: str(config.get(k, "")) for k in (*MANAGED_CONFIG, "port")},
            **auth,
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
            if {"auth", "app auth", "acl users"} & drifted.keys():
                for user, rules, password in _users(keys):
                    set_user(client, user, rules, password)
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
        """The app's URL: its own ACL user once rotated, `default` before."""
        user, _, password = _users(keys)[-1]
        return {"url": url(user, password, s.port)}


def url(user: str, password: str, port: int) -> str:
    """The URL a client logs in with as `user`.

    >>> url("mentora_a", "p/w", 6390)
    'redis://mentora_a:p%2Fw@127.0.0.1:6390/0'
    """
    return f"redis://{user}:{quote(password, safe='')}@{processes.HOST}:{port}/0"


def _auth(user: Any, password: str) -> str:
    """What `observe` says of one user's passwords: the stack's alone, or how many others."""
    if not user:
        return "the user is missing"
    ours = digest(password)
    passwords = user.get("passwords") or []
    if ours not in passwords:
        return "the stack's password is not among its passwords"
    others = [p for p in passwords if p != ours]
    return PASSWORD_OURS if not others else f"the stack's + {len(others)} other password(s)"


class RedisServer(LocalServerResource):
    """A local Redis server that requires a password (see the module doc for its users)."""

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    password: pulumi.Output[str]
    app_login: pulumi.Output[str]
    app_password: pulumi.Output[str]
    url: pulumi.Output[str]
    data_dir: pulumi.Output[str]
    running: pulumi.Output[bool]

    PROVIDER = RedisProvider
    SECRET_OUTPUTS = SECRET_OUTPUTS
