"""The reference app: `/api/health`, rate-limited `/api/chat`, `/api/inngest`, `/api/test-sentry`.

The contract it implements is docs/app-contract.md. `/api/inngest` is the real `inngest` SDK
(its FastAPI integration: FastAPI is Starlette); errors go out through the real `sentry-sdk`.

Run: `python -m reference_app.serve --port 3000` with DATABASE_URL and REDIS_URL set (and
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
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reference_app import jobs
from reference_app.client_identity import client_key
from reference_app.credentials import Credentials
from reference_app.db_probe import REAP_EVERY_S
from reference_app.errors import init_sentry, test_sentry
from reference_app.health import SharedProbe, overall

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
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = _settings()
    init_sentry()
    env = {**os.environ, "DATABASE_URL": settings["database_url"]}
    credentials = Credentials(env, int(settings["chat_limit"]))
    app.state.credentials = credentials
    app.state.database_probe = SharedProbe(
        lambda: credentials.current.database.ping(), PROBE_TIMEOUT_S
    )
    app.state.cache_probe = SharedProbe(lambda: credentials.current.redis.ping(), PROBE_TIMEOUT_S)
    watch = asyncio.create_task(credentials.watch())
    reaper = asyncio.create_task(_reap_idle(credentials))
    yield
    watch.cancel()
    reaper.cancel()
    await credentials.close()


async def _reap_idle(credentials: Credentials) -> None:
    """Close the probe's idle database connections (db_probe.py) until cancelled."""
    while True:
        await asyncio.sleep(REAP_EVERY_S)
        try:
            await credentials.current.database.reap()
        except Exception as exc:  # noqa: BLE001 - a failed close must not stop the reaper
            print(f"reference app: idle connection not closed: {type(exc).__name__}", flush=True)


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
        "config": state.credentials.current.fingerprint,
    }
    return JSONResponse(body, status_code=code)


async def chat(request: Request) -> JSONResponse:
    peer = request.client.host if request.client else "?"
    clients = request.app.state.credentials.current
    client = client_key(request.headers, peer, clients.signing_key)
    try:
        decision = await clients.chat_limiter.hit(client)
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


async def storage(request: Request) -> JSONResponse:
    """`HEAD` of the app's bucket with the app's current key: 200, or 503 naming the error."""
    credentials = request.app.state.credentials
    bucket = credentials.current.env.get("AWS_S3_BUCKET")
    client = credentials.current.s3
    if client is None or not bucket:
        return JSONResponse({"error": "no bucket in the env"}, status_code=503)
    try:
        await asyncio.wait_for(
            asyncio.to_thread(client.head_bucket, Bucket=bucket), PROBE_TIMEOUT_S + 1
        )
    except Exception as exc:  # noqa: BLE001 - the class only: messages can carry keys
        return JSONResponse({"error": type(exc).__name__}, status_code=503)
    return JSONResponse({"bucket": "ok"})


app = FastAPI(
    routes=[
        Route("/api/health", health, methods=["GET"]),
        Route("/api/chat", chat, methods=["POST"]),
        Route("/api/storage", storage, methods=["GET"]),
        Route("/api/test-sentry", test_sentry, methods=["GET"]),
    ],
    lifespan=lifespan,
    openapi_url=None,
    docs_url=None,
    redoc_url=None,
)
# GET (introspection), PUT (sync), POST (run a step) on /api/inngest, by the SDK.
inngest.fast_api.serve(app, jobs.client, jobs.FUNCTIONS)
