"""Cache checks on `smoke:<run>:` keys: ping, set/get, setex + ttl, incr, del, cache-aside."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smoke.outputs import StackOutputs
from smoke.report import Measure
from smoke.targets import shown, unreachable


@pytest.fixture(scope="module")
def cache(outputs: StackOutputs, timeout_s: float, run_id: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(
        outputs.redis_url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry_on_timeout=False,
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise unreachable("cache", "redis", outputs.redis_url, exc) from None
    yield client
    try:  # cleanup runs whatever the checks did
        keys = list(client.scan_iter(match=f"smoke:{run_id}:*", count=100))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def key(run_id: str, request: pytest.FixtureRequest) -> Callable[[str], str]:
    return lambda name: f"smoke:{run_id}:{request.node.name}:{name}"


def test_ping(cache: Any, measure: Measure, outputs: StackOutputs) -> None:
    with measure.timed(shown(outputs.redis_url)):
        assert cache.ping() is True


@pytest.mark.writes
def test_set_get(cache: Any, measure: Measure, outputs: StackOutputs, key: Any) -> None:
    with measure.timed(shown(outputs.redis_url)):
        cache.set(key("k"), "Hello Redis!", ex=60)
        assert cache.get(key("k")) == b"Hello Redis!"


@pytest.mark.writes
def test_setex_ttl(cache: Any, measure: Measure, outputs: StackOutputs, key: Any) -> None:
    with measure.timed(shown(outputs.redis_url)):
        cache.execute_command("SETEX", key("ttl"), 5, "Expires in 5 seconds")
        assert 0 < cache.ttl(key("ttl")) <= 5


@pytest.mark.writes
def test_incr(cache: Any, measure: Measure, outputs: StackOutputs, key: Any) -> None:
    with measure.timed(shown(outputs.redis_url)):
        assert cache.incr(key("counter")) == 1
        assert cache.incr(key("counter")) == 2
        cache.expire(key("counter"), 60)


@pytest.mark.writes
def test_del(cache: Any, measure: Measure, outputs: StackOutputs, key: Any) -> None:
    with measure.timed(shown(outputs.redis_url)):
        cache.set(key("gone"), "x", ex=60)
        assert cache.delete(key("gone")) == 1
        assert cache.get(key("gone")) is None


def get_or_compute(cache: Any, name: str, compute: Callable[[], Any], ttl: int) -> Any:
    """The cache-aside pattern of the guide's cache service."""
    hit = cache.get(name)
    if hit is not None:
        return json.loads(hit)
    value = compute()
    cache.set(name, json.dumps(value), ex=ttl)
    return value


@pytest.mark.writes
def test_cache_aside_miss_then_hit(
    cache: Any, measure: Measure, outputs: StackOutputs, key: Any
) -> None:
    calls: list[int] = []
    data = {"id": "123", "name": "Test Video"}

    def compute() -> dict[str, str]:
        calls.append(1)
        return data

    with measure.timed(shown(outputs.redis_url)):
        assert get_or_compute(cache, key("video"), compute, 60) == data
        assert get_or_compute(cache, key("video"), compute, 60) == data
    assert calls == [1], "cache-aside: the second read recomputed instead of hitting the cache"
