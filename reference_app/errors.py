"""Error reporting with the real `sentry-sdk`, and the guide's `GET /api/test-sentry`."""

from __future__ import annotations

import asyncio
import os

from starlette.requests import Request
from starlette.responses import JSONResponse

FLUSH_TIMEOUT_S = 2.0


def init_sentry() -> bool:
    """Start `sentry-sdk` when `SENTRY_DSN` is set (errors only: no traces, no PII)."""
    import sentry_sdk
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    dsn = os.environ.get("SENTRY_DSN")
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "local"),
        traces_sample_rate=0.0,
        # The app's own frameworks only: auto-enabling probes every installed one (Django,
        # Flask, ... are in this venv for other tools), ~9 MB of the app's resident memory.
        auto_enabling_integrations=False,
        integrations=[StarletteIntegration(), FastApiIntegration()],
        shutdown_timeout=FLUSH_TIMEOUT_S,
    )
    return True


class SentryTestError(Exception):
    """Raised on purpose by `/api/test-sentry`."""


async def test_sentry(request: Request) -> JSONResponse:
    """Capture one exception and deliver it now; answer its event id so a check can find it."""
    import sentry_sdk

    if not sentry_sdk.get_client().dsn:
        return JSONResponse(
            {"error": "error tracking is off", "fix": "set SENTRY_DSN (the stack's env has it)"},
            status_code=503,
        )
    tag = request.query_params.get("tag", "")[:64]
    with sentry_sdk.new_scope() as scope:
        if tag:
            scope.set_tag("smoke_run", tag)
        try:
            raise SentryTestError("Sentry test error from /api/test-sentry")
        except SentryTestError as exc:
            event_id = sentry_sdk.capture_exception(exc)
    # Deliver before answering: the caller looks the event up by id right away. In a thread:
    # a slow tracker must not stall every other request of the app for up to FLUSH_TIMEOUT_S.
    await asyncio.to_thread(sentry_sdk.flush, timeout=FLUSH_TIMEOUT_S)
    return JSONResponse({"event_id": event_id, "message": "Sentry test error captured"})
