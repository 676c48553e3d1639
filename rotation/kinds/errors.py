"""Bugsink (the local error tracker): a new full-access API token, the old ones deleted
(rotation/bugsink_tokens.py runs in Bugsink's own Django settings, tokens through pipes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from rotation.kinds import Created, NotRefused
from rotation.state import StackState

RESOURCE = "errors-server"


def _tokens(out: dict[str, Any], action: str, stdin: str = "") -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "rotation.bugsink_tokens", str(out["data_dir"]), action],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(str(out["data_dir"])),
        env=_env(),
    )
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or ["?"]
        raise RuntimeError(f"errors: Bugsink token {action} failed: {detail[0]}")
    return dict(json.loads(done.stdout))


def _env() -> dict[str, str]:
    import os

    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


class Errors:
    """Rotates the error tracker's API token (`SENTRY_AUTH_TOKEN`)."""

    name = "errors"

    def create(self, state: StackState) -> Created:
        out = state.outputs(RESOURCE)
        new = str(_tokens(out, "create")["token"])
        old = str(out["api_token"])
        return Created(self.name, {old: new}, {"token": old})

    def revoke_others(self, state: StackState) -> list[str]:
        out = state.outputs(RESOURCE)
        deleted = int(_tokens(out, "keep", str(out["api_token"]) + "\n")["deleted"])
        return [f"bugsink token x{deleted}"] if deleted else []

    def refused(self, state: StackState, old: dict[str, str]) -> str:
        import httpx

        out = state.outputs(RESOURCE)
        answer = httpx.get(
            f"{out['url']}/api/canonical/0/projects/",
            headers={"Authorization": f"Bearer {old['token']}"},
            timeout=5,
        )
        if answer.status_code in (401, 403):
            return f"bugsink: HTTP {answer.status_code} for the old token"
        raise NotRefused(f"bugsink: the old token still answers HTTP {answer.status_code}")
