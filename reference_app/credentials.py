"""The app's credentials (Postgres, Redis, S3), swapped in place when the env file changes.

`mentora-infra rotate` writes a second credential into the stack's env file, waits until the app
reports the new `MENTORA_CONFIG_FINGERPRINT` on `/api/health`, and only then revokes the old one.
So the app must switch without a restart that would drop requests: `Credentials` builds new
clients from the file, puts them in place for the next request, and closes the old ones only
after `GRACE_S`, so a request that already holds an old client finishes with it (the old
credential still works until the rotation, seeing the new fingerprint, revokes it).

The file is named by `MENTORA_ENV_FILE` (the local stack sets it); without it nothing is
watched and the process env is all there is.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from reference_app.client_identity import signing_key
from reference_app.db_probe import DatabaseProbe
from reference_app.ratelimit import SlidingWindowLimiter

ENV_FILE_NAME = "MENTORA_ENV_FILE"
FINGERPRINT = "MENTORA_CONFIG_FINGERPRINT"
WATCH_EVERY_S = 0.2
WATCHED = (
    "DATABASE_URL",
    "REDIS_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    FINGERPRINT,
)
"""A change of any of these in the file switches the clients."""
GRACE_S = 10.0
"""How long old clients stay open after a switch: longer than any request's deadline."""
PROBE_TIMEOUT_S = 2.0
REDIS_POOL_SIZE = 64  # connections to Redis at most; more requests wait for one


def _redis(url: str) -> Redis:
    # A bounded pool that makes a request wait (within the probe's deadline) for a connection
    # instead of failing: the default pool raised MaxConnectionsError past 100 at once, so a
    # burst of 300 health requests answered 174 x 503 with Redis healthy.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_POOL_SIZE,
        timeout=PROBE_TIMEOUT_S,
        socket_timeout=PROBE_TIMEOUT_S,
        socket_connect_timeout=PROBE_TIMEOUT_S,
        # After a Redis restart pooled connections are dead: retry once on a fresh one.
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    return Redis.from_pool(pool)


@dataclass(frozen=True)
class Clients:
    """One generation of the app's clients, all built from the same env."""

    env: dict[str, str]
    redis: Redis
    database: DatabaseProbe
    signing_key: bytes
    chat_limiter: SlidingWindowLimiter
    s3: Any
    """A boto3 S3 client with this generation's key (None without a bucket in the env)."""

    @classmethod
    def build(cls, env: dict[str, str], chat_limit: int, s3: Any) -> Clients:
        redis = _redis(env["REDIS_URL"])
        return cls(
            env=env,
            redis=redis,
            database=DatabaseProbe(env["DATABASE_URL"]),
            signing_key=signing_key(env["REDIS_URL"]),
            chat_limiter=SlidingWindowLimiter(redis, route="chat", limit=chat_limit),
            s3=s3,
        )

    @property
    def fingerprint(self) -> str | None:
        return self.env.get(FINGERPRINT)

    async def close(self) -> None:
        await self.database.close()
        await self.redis.aclose()


def s3_client(env: dict[str, str]) -> Any:
    """A boto3 S3 client for `env`'s key (None without a bucket). Slow to build (botocore loads
    its models): built off the event loop, before a switch, never inside a request."""
    if not env.get("AWS_S3_BUCKET") or not env.get("AWS_ACCESS_KEY_ID"):
        return None
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=env.get("AWS_ENDPOINT_URL_S3") or None,
        region_name=env.get("AWS_REGION") or "us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(
            connect_timeout=PROBE_TIMEOUT_S,
            read_timeout=PROBE_TIMEOUT_S,
            retries={"max_attempts": 1},
            s3={"addressing_style": "path"},
        ),
    )


def read_env_file(path: Path) -> dict[str, str] | None:
    """The file's variables (None while it is missing or unreadable)."""
    from dotenv import dotenv_values

    try:
        text = path.read_text()
    except OSError:
        return None
    import io

    values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {k: v for k, v in values.items() if v is not None}


class Credentials:
    """Owns the current `Clients` and swaps them when the env file's credentials change."""

    def __init__(self, env: dict[str, str], chat_limit: int) -> None:
        self._chat_limit = chat_limit
        self.current = Clients.build(env, chat_limit, s3_client(env))
        self._file = Path(os.environ[ENV_FILE_NAME]) if os.environ.get(ENV_FILE_NAME) else None
        self._stamp: tuple[int, int] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def watch(self) -> None:
        """Check the env file every `WATCH_EVERY_S` until cancelled."""
        while self._file is not None:
            try:
                await self.check()
            except Exception as exc:  # noqa: BLE001 - a bad file must not stop the watch
                print(f"reference app: env file not reloaded: {type(exc).__name__}", flush=True)
            await asyncio.sleep(WATCH_EVERY_S)

    async def check(self) -> bool:
        """Switch to the file's credentials when they differ; whether it switched."""
        if self._file is None:
            return False
        try:
            st = self._file.stat()
        except OSError:
            return False
        stamp = (st.st_mtime_ns, st.st_ino)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        env = read_env_file(self._file)
        if not env or not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
            return False
        if all(env.get(name) == self.current.env.get(name) for name in WATCHED):
            return False
        env = {**self.current.env, **env}
        s3 = await asyncio.to_thread(s3_client, env)  # seconds on a busy machine: not here
        old, self.current = self.current, Clients.build(env, self._chat_limit, s3)
        task = asyncio.create_task(self._close_later(old))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        print(f"reference app: switched to config {self.current.fingerprint}", flush=True)
        return True

    async def _close_later(self, old: Clients) -> None:
        await asyncio.sleep(GRACE_S)
        await old.close()

    async def close(self) -> None:
        for task in list(self._closing):
            task.cancel()
        await self.current.close()
