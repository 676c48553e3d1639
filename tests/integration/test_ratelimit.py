"""The sliding-window limiter against a real Redis: exact counts under concurrency."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from reference_app.ratelimit import SlidingWindowLimiter

pytest_plugins = ["tests.integration.redis_fixture"]


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


@pytest.mark.parametrize("limit", [1, 5, 20])
def test_exactly_limit_requests_pass_under_concurrency(redis_url: str, limit: int) -> None:
    async def scenario() -> list[bool]:
        async with Redis.from_url(redis_url) as redis:
            limiter = SlidingWindowLimiter(redis, route="chat", limit=limit, window_s=60)
            client = uuid.uuid4().hex
            decisions = await asyncio.gather(*(limiter.hit(client) for _ in range(25)))
            return [d.allowed for d in decisions]

    allowed = run(scenario())
    assert allowed.count(True) == limit
    assert allowed.count(False) == 25 - limit


def test_refusal_carries_retry_after_and_headers(redis_url: str) -> None:
    async def scenario() -> tuple[object, object]:
        async with Redis.from_url(redis_url) as redis:
            limiter = SlidingWindowLimiter(redis, route="chat", limit=2, window_s=30)
            client = uuid.uuid4().hex
            first = await limiter.hit(client)
            await limiter.hit(client)
            return first, await limiter.hit(client)

    first, refused = run(scenario())
    assert first.allowed and first.remaining == 1  # type: ignore[attr-defined]
    headers = refused.headers(now_s=1000.0)  # type: ignore[attr-defined]
    assert headers["X-RateLimit-Limit"] == "2"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(headers["Retry-After"]) <= 30
    assert 1000 < int(headers["X-RateLimit-Reset"]) <= 1030


def test_clients_and_windows_are_independent(redis_url: str) -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        async with Redis.from_url(redis_url) as redis:
            limiter = SlidingWindowLimiter(redis, route="chat", limit=1, window_s=0.2)
            a, b = uuid.uuid4().hex, uuid.uuid4().hex
            await limiter.hit(a)
            other_client = (await limiter.hit(b)).allowed
            same_client = (await limiter.hit(a)).allowed
            await asyncio.sleep(0.25)
            after_window = (await limiter.hit(a)).allowed
            return other_client, same_client, after_window

    assert run(scenario()) == (True, False, True)


def test_limit_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        SlidingWindowLimiter(Redis(), route="chat", limit=0)
