"""Turning connection failures into one readable line that names the service and the fix."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from smoke.redact import redact_url

FIX = "is the stack up? for local run: make up"


def endpoint(url: str) -> str:
    """`host:port` of a URL, for messages (never the credentials)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def unreachable(service: str, what: str, url: str, exc: BaseException) -> pytest.Failed:
    """A failure like `cache: redis at 127.0.0.1:6390 refused connection (...)`."""
    text = str(exc).lower()
    if "refused" in text:
        how = "refused connection"
    elif "timed out" in text or "timeout" in text:
        how = "timed out"
    else:
        how = f"is unreachable ({type(exc).__name__})"
    return pytest.fail.Exception(
        f"{service}: {what} at {endpoint(url)} {how} ({FIX})", pytrace=False
    )


def shown(url: str) -> str:
    return redact_url(url)
