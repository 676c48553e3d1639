"""Cache checks on `smoke:<run-id>:` keys: ping, set/get, setex + ttl, incr, del, cache-aside.

Every key gets a TTL, and the cache client's teardown deletes all of this run's keys even when a
check fails, so a smoke run leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from smoke.checks import check, client
from smoke.checks.common import Recorder, call_failed, fail_if_down, unreachable
from smoke.outputs import StackOutputs
from smoke.redact import redact_url

KEY_TTL_S = 60


@dataclass(frozen=True)
class Cache:
    """A connected client, the Redis it talks to and this run's key prefix."""

    client: Any
    url: str = field(repr=False)
    """The stack's REDIS_URL (secret: `target` and `unreachable` show it without credentials)."""
    prefix: str
    outputs: StackOutputs | None = field(default=None, repr=False)

    @property
    def target(self) -> str:
        return redact_url(self.url)


@contextmanager
def talking(cache: Cache, check: Recorder) -> Iterator[None]:
    """One timed exchange with Redis. A server that goes away after the client's setup (killed
    mid-run, as the watch sees it) is named like one found down at setup, not a traceback."""
    import redis

    with check.timed(cache.target):
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise unreachable("cache", "redis", cache.url, exc, cache.outputs) from None


@client
def cache(outputs: StackOutputs, timeout_s: float, run_id: str) -> Iterator[Cache]:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    fail_if_down("cache", "redis", outputs.redis_url, outputs)
    client = redis.Redis.from_url(
        outputs.redis_url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        # redis-py retries 10 times by default: a dead server would take many timeouts to fail.
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise unreachable("cache", "redis", outputs.redis_url, exc, outputs) from None
    prefix = f"smoke:{run_id}:"
    yield Cache(client, outputs.redis_url, prefix, outputs)
    try:  # cleanup runs whatever the checks did
        found = list(client.scan_iter(match=f"{prefix}*", count=100))
        if found:
            client.delete(*found)
    except redis.RedisError as exc:
        raise call_failed("cache", f"cleanup of {prefix}* keys", outputs.redis_url, exc) from None
    finally:
        client.close()


def keys(cache: Cache, check: Recorder) -> Callable[[str], str]:
    """`keys(cache, check)("k")` -> `smoke:<run-id>:<check>:k`."""
    return lambda name: f"{cache.prefix}{check.name}:{name}"


@check()
def test_ping(cache: Cache, check: Recorder) -> None:
    with talking(cache, check):
        assert cache.client.ping() is True


@check(writes=True)
def test_set_get(cache: Cache, check: Recorder) -> None:
    key = keys(cache, check)
    with talking(cache, check), cache.client.pipeline(transaction=False) as pipe:
        pipe.set(key("k"), "Hello Redis!", ex=KEY_TTL_S)
        pipe.get(key("k"))
        _, value = pipe.execute()  # one round trip; Redis runs them in order
    assert value == b"Hello Redis!", f"cache: GET after SET returned {value!r}"


@check(writes=True)
def test_setex_ttl(cache: Cache, check: Recorder) -> None:
    key = keys(cache, check)
    with talking(cache, check), cache.client.pipeline(transaction=False) as pipe:
        # The guide's SETEX itself (redis-py 8 deprecates its `setex` wrapper).
        pipe.execute_command("SETEX", key("ttl"), 5, "Expires in 5 seconds")
        pipe.ttl(key("ttl"))
        _, ttl = pipe.execute()
    assert 0 < ttl <= 5, f"cache: TTL after SETEX 5 is {ttl}"


@check(writes=True)
def test_incr(cache: Cache, check: Recorder) -> None:
    key = keys(cache, check)
    with talking(cache, check), cache.client.pipeline(transaction=False) as pipe:
        # INCR itself, as the guide's rate limiter uses it (redis-py's `incr` sends INCRBY).
        pipe.execute_command("INCR", key("counter"))
        pipe.expire(key("counter"), KEY_TTL_S)
        pipe.execute_command("INCR", key("counter"))
        first, _, second = pipe.execute()
    assert (first, second) == (1, 2), f"cache: INCR counted {first}, {second}"


@check(writes=True)
def test_del(cache: Cache, check: Recorder) -> None:
    key = keys(cache, check)
    with talking(cache, check), cache.client.pipeline(transaction=False) as pipe:
        pipe.set(key("gone"), "x", ex=KEY_TTL_S)
        pipe.delete(key("gone"))
        pipe.get(key("gone"))
        _, deleted, after = pipe.execute()
    assert (deleted, after) == (1, None), (
        f"cache: DEL removed {deleted} key(s), GET gives {after!r}"
    )


def get_or_compute(client: Any, name: str, compute: Callable[[], Any], ttl_s: int) -> Any:
    """The cache-aside pattern of the guide's cache service: a hit returns the cached JSON, a
    miss computes the value and caches it for `ttl_s` seconds.

    >>> get_or_compute(redis_client, "smoke:x:video", lambda: {"id": "123"}, 60)  # doctest: +SKIP
    {'id': '123'}
    """
    hit = client.get(name)
    if hit is not None:
        return json.loads(hit)
    value = compute()
    client.set(name, json.dumps(value), ex=ttl_s)
    return value


@check(writes=True)
def test_cache_aside_miss_then_hit(cache: Cache, check: Recorder) -> None:
    key = keys(cache, check)
    computed: list[int] = []
    data = {"id": "123", "name": "Test Video"}

    def compute() -> dict[str, str]:
        computed.append(1)
        return data

    with talking(cache, check):
        first = get_or_compute(cache.client, key("video"), compute, KEY_TTL_S)
        second = get_or_compute(cache.client, key("video"), compute, KEY_TTL_S)
    assert first == second == data, f"cache-aside returned {first!r}, then {second!r}"
    assert len(computed) == 1, "cache: cache-aside recomputed on the second read (no cache hit)"
