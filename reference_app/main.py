"""The reference app: `/api/health`, rate-limited `/api/chat`, `/api/inngest`, `/api/test-sentry`.

The contract it implements is docs/app-contract.md. `/api/inngest` is the real `inngest` SDK
(its FastAPI integration: FastAPI is Starlette); errors go out through the real `sentry-sdk`.

Run: `uvicorn reference_app.main:app --port 3000` with DATABASE_URL and REDIS_URL set (and
INNGEST_DEV=1 + INNGEST_BASE_URL for a local Dev Server, SENTRY_DSN for error tracking).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import inngest.fast_api
from fastapi import FastAPI
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reference_app import jobs
from reference_app.client_identity import client_key, signing_key
from reference_app.db_probe import DatabaseProbe
from reference_app.errors import init_sentry, test_sentry
from reference_app.health import SharedProbe, overall
from reference_app.ratelimit import SlidingWindowLimiter

PROBE_TIMEOUT_S = 2.0
REDIS_POOL_SIZE = 64  # connections to Redis at most; more requests wait for one


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
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = _settings()
    init_sentry()
    # A bounded pool that makes a request wait (within the probe's deadline) for a connection
    # instead of failing: the default pool raised MaxConnectionsError past 100 at once, so a
    # burst of 300 health requests answered 174 x 503 with Redis healthy.
    pool = BlockingConnectionPool.from_url(
        settings["redis_url"],
        max_connections=REDIS_POOL_SIZE,
        timeout=PROBE_TIMEOUT_S,
        socket_timeout=PROBE_TIMEOUT_S,
        socket_connect_timeout=PROBE_TIMEOUT_S,
        # After a Redis restart pooled connections are dead: retry once on a fresh one.
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    redis = Redis.from_pool(pool)
    app.state.redis = redis
    app.state.database = DatabaseProbe(settings["database_url"])
    app.state.database_probe = SharedProbe(app.state.database.ping, PROBE_TIMEOUT_S)
    app.state.cache_probe = SharedProbe(redis.ping, PROBE_TIMEOUT_S)
    app.state.client_signing_key = signing_key(settings["redis_url"])
    app.state.chat_limiter = SlidingWindowLimiter(
        redis, route="chat", limit=int(settings["chat_limit"])
    )
    yield
    await app.state.database.close()
    await redis.aclose()


async def health(request: Request) -> JSONResponse:
    state = request.app.state
    database, cache = await asyncio.gather(state.database_probe(), state.cache_probe())
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
    peer = request.client.host if request.client else "?"
    client = client_key(request.headers, peer, request.app.state.client_signing_key)
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


app = FastAPI(
    routes=[
        Route("/api/health", health, methods=["GET"]),
        Route("/api/chat", chat, methods=["POST"]),
        Route("/api/test-sentry", test_sentry, methods=["GET"]),
    ],
    lifespan=lifespan,
    openapi_url=None,
    docs_url=None,
    redoc_url=None,
)
# GET (introspection), PUT (sync), POST (run a step) on /api/inngest, by the SDK.
inngest.fast_api.serve(app, jobs.client, jobs.FUNCTIONS)
