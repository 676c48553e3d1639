"""Talking to Inngest and Sentry the way the app does: signed introspection and test events."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

INNGEST_EVENT_API = "https://inn.gs/e/"
SMOKE_EVENT = "mentora/smoke.test"
_SIGNKEY_PREFIX = re.compile(r"^signkey-\w+-")


def inngest_signature(body: bytes, signing_key: str, timestamp: int | None = None) -> str:
    """`X-Inngest-Signature` for a request body: `t=<ts>&s=<hex HMAC-SHA256(body + ts)>`.

    The key is the signing key without its `signkey-<env>-` prefix, as the Inngest SDKs use it.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    key = _SIGNKEY_PREFIX.sub("", signing_key).encode()
    mac = hmac.new(key, body + ts.encode(), hashlib.sha256).hexdigest()
    return f"t={ts}&s={mac}"


def send_inngest_event(client: Any, event_key: str, run_id: str) -> Any:
    """POST a smoke event to Inngest's event API; the answer lists the new event's id."""
    payload = {"name": SMOKE_EVENT, "data": {"run_id": run_id, "source": "mentora-smoke"}}
    return client.post(f"{INNGEST_EVENT_API}{event_key}", json=payload)


def sentry_envelope(dsn: str, run_id: str) -> tuple[str, bytes, dict[str, str]]:
    """The envelope URL, body and auth header for one info-level test event to `dsn`."""
    parts = urlsplit(dsn)
    if not (parts.scheme and parts.username and parts.hostname and parts.path.strip("/")):
        raise ValueError("SENTRY_DSN is not of the form https://<key>@<host>/<project id>")
    project = parts.path.strip("/").rsplit("/", 1)[-1]
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    url = f"{parts.scheme}://{host}/api/{project}/envelope/"
    event_id = uuid.uuid4().hex
    event = {
        "event_id": event_id,
        "message": "mentora smoke test event",
        "level": "info",
        "platform": "python",
        "tags": {"smoke_run": run_id},
    }
    lines = [{"event_id": event_id}, {"type": "event"}, event]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    auth = f"Sentry sentry_version=7, sentry_key={parts.username}, sentry_client=mentora-smoke/1.0"
    return url, body, {"X-Sentry-Auth": auth, "Content-Type": "application/x-sentry-envelope"}


def send_sentry_event(client: Any, dsn: str, run_id: str) -> Any:
    """POST one test event to the project of `dsn`."""
    url, body, headers = sentry_envelope(dsn, run_id)
    return client.post(url, content=body, headers=headers)
