"""Switch the app to the credentials the state names: write its env file, then wait until the
app reports that env's fingerprint on its health path (the reference app re-reads the file and
swaps its clients, finishing in-flight requests with the old ones: reference_app/credentials.py).

The old credentials are revoked only after this returns, so the app never holds a credential
that does not work; an app that does not switch within the deadline (one that never re-reads
its env file) stops the rotation before anything is revoked.
"""

from __future__ import annotations

import time
from pathlib import Path

from components.app_secrets import FINGERPRINT_NAME
from components.local.env_file import render, write_private
from rotation.state import StackState

SWITCH_DEADLINE_S = 15.0
DRAIN_S = 3.0
"""After the switch, requests that started with the old clients finish (the app's probes give
up after 2 s) before the old credential is revoked."""


class SwitchFailed(Exception):
    """The app did not report the new env within the deadline; nothing was revoked."""


def app_fingerprint(url: str, health_path: str = "/api/health") -> str | None:
    """The fingerprint the running app reports (None: no answer or none reported)."""
    import httpx

    try:
        answer = httpx.get(f"{url}{health_path}", timeout=3.0)
        return str(answer.json().get("config") or "") or None
    except (httpx.HTTPError, ValueError):
        return None


def switch(state: StackState, deadline_s: float = SWITCH_DEADLINE_S) -> str:
    """Write the state's env to the env file; wait until the app serves it. Its fingerprint."""
    env_file = state.outputs("app-env-file")
    values = dict(env_file.get("values") or {})
    write_private(Path(env_file["path"]), render(values))
    wanted = values.get(FINGERPRINT_NAME, "")
    app = state.outputs("app-process")
    url, health = str(app.get("url") or ""), str(app.get("health_path") or "/api/health")
    end = time.monotonic() + deadline_s
    seen: str | None = None
    while time.monotonic() < end:
        seen = app_fingerprint(url, health)
        if seen == wanted:
            return wanted
        time.sleep(0.2)
    raise SwitchFailed(
        f"app: {url} still reports config {seen or '(no answer)'} {deadline_s:g}s after its env "
        f"file changed (wanted {wanted}); nothing was revoked. An app that does not re-read "
        f"{env_file['path']} needs a restart: run `mentora-infra up {state.stack}`"
    )
