"""The reference app: `/api/health`, rate-limited `/api/chat`, `/api/inngest`.

The contract it implements is docs/app-contract.md.

Run: `uvicorn reference_app.main:app --port 3000` with DATABASE_URL and REDIS_URL set.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reference_app.health import overall, probe
from reference_app.jobs import introspection
from reference_app.ratelimit import SlidingWindowLimiter

PROBE_TIMEOUT_S = 2.0


def _settings() -> dict[str, str]:
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"reference app: set {', '.join(missing)} (the stack's env provides it)")
    limit = os.environ.get("RATE_LIMIT_CHAT_PER_MIN", "20")
    if not limit.isdigit() or int(limit) < 1:
        raise RuntimeError(f"reference app: RATE_LIMIT_CHAT_PER_MIN={limit!r} must be >= 1")
    return {
        "database_url": os.environ["DATABASE_URL"],
        "redis_url": os.environ["REDIS_URL"],
        "chat_limit": limit,
    }


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings = _settings()
    redis = Redis.from_url(
        settings["redis_url"],
        socket_timeout=PROBE_TIMEOUT_S,
        socket_connect_timeout=PROBE_TIMEOUT_S,
        # After a Redis restart pooled connections are dead: retry once on a fresh one.
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    app.state.redis = redis
    app.state.database_url = settings["database_url"]
    app.state.chat_limiter = SlidingWindowLimiter(
        redis, route="chat", limit=int(settings["chat_limit"])
    )
    yield
    await redis.aclose()


async def _database_ping(url: str) -> None:
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, connect_timeout=2) as conn:
        await conn.execute("select 1")


async def health(request: Request) -> JSONResponse:
    state = request.app.state
    database, cache = await asyncio.gather(
        probe(lambda: _database_ping(state.database_url), PROBE_TIMEOUT_S),
        probe(state.redis.ping, PROBE_TIMEOUT_S),
    )
    services = {"database": database, "cache": cache}
    status, code = overall(services)
    body = {
        "status": status,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "services": {name: s.as_json() for name, s in services.items()},
        # Which configuration this process was started with (docs/app-contract.md).
        "config": os.environ.get("MENTORA_CONFIG_FINGERPRINT"),
    }
    return JSONResponse(body, status_code=code)


async def chat(request: Request) -> JSONResponse:
    client = request.headers.get("x-client-id") or (request.client.host if request.client else "?")
    try:
        decision = await request.app.state.chat_limiter.hit(client)
    except RedisError as exc:
        # Fail closed, and say why: no limiter means no protection for the AI backends.
        return JSONResponse(
            {"error": "rate limiter unavailable", "reason": type(exc).__name__}, status_code=503
        )
    if not decision.allowed:
        return JSONResponse(
            {"error": "rate limit exceeded", "retry_after": decision.retry_after_s},
            status_code=429,
            headers=decision.headers(),
        )
    return JSONResponse({"message": "Chat response"}, headers=decision.headers())


async def inngest(request: Request) -> JSONResponse:
    return JSONResponse(
        introspection(
            has_event_key=bool(os.environ.get("INNGEST_EVENT_KEY")),
            has_signing_key=bool(os.environ.get("INNGEST_SIGNING_KEY")),
        )
    )


app = Starlette(
    routes=[
        Route("/api/health", health, methods=["GET"]),
        Route("/api/chat", chat, methods=["POST"]),
        Route("/api/inngest", inngest, methods=["GET"]),
    ],
    lifespan=lifespan,
)
