"""Sliding-window rate limiter kept in Redis (one sorted set per client and route).

The window check and the insert run in one Lua script, so concurrent requests from the same
client can never both take the last slot: exactly `limit` requests pass per window.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

# KEYS[1] = window key; ARGV = now_ms, window_ms, limit, member
_SLIDING_WINDOW = """
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
    tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, window)
    return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local retry = window
if oldest[2] then retry = tonumber(oldest[2]) + window - now end
return {0, 0, retry}
"""


@dataclass(frozen=True)
class Decision:
    """The limiter's answer for one request."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_ms: int

    @property
    def retry_after_s(self) -> int:
        """Whole seconds to wait, never 0 for a refused request (Retry-After is in seconds)."""
        return max(1, -(-self.retry_after_ms // 1000)) if not self.allowed else 0

    def headers(self, now_s: float | None = None) -> dict[str, str]:
        """`X-RateLimit-*` headers (and `Retry-After` when refused)."""
        now_s = time.time() if now_s is None else now_s
        reset = int(now_s + self.retry_after_ms / 1000) if not self.allowed else int(now_s)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


class SlidingWindowLimiter:
    """Owns the rate-limit windows of one route: `limit` requests per `window_s` per client."""

    def __init__(self, redis: Redis, *, route: str, limit: int, window_s: float = 60.0) -> None:
        if limit < 1:
            raise ValueError(f"rate limit for {route} must be >= 1 (got {limit})")
        self._redis = redis
        self._route = route
        self._limit = limit
        self._window_ms = int(window_s * 1000)
        self._script = redis.register_script(_SLIDING_WINDOW)

    async def hit(self, client_id: str) -> Decision:
        """Count one request of `client_id`; say whether it may proceed."""
        key = f"ratelimit:{self._route}:{client_id}"
        now_ms = int(time.time() * 1000)
        member = f"{now_ms}:{uuid.uuid4().hex}"
        allowed, remaining, retry = await self._script(
            keys=[key], args=[now_ms, self._window_ms, self._limit, member]
        )
        return Decision(bool(allowed), self._limit, int(remaining), int(retry))
