"""`ErrorTracker`: Bugsink (PyPI, Sentry-compatible ingest and API) on 127.0.0.1 via gunicorn.

Create does the one-time work once per stack: config (`bugsink-create-conf --template=local`),
both databases' migrations, superuser and API token (components/local/bugsink_setup.py, one
process), then a team and project through Bugsink's API; its DSN and the token are secret
outputs. A restart (crash, `pulumi up --refresh`) only starts gunicorn again on the same SQLite
files: no migration, same DSN and token.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.local import ownership, processes
from components.local.bugsink_api import API, Tracker
from components.local.errors import ServerStartError
from components.local.server_provider import (
    LocalServerProvider,
    LocalServerResource,
    Secrets,
    ServerSettings,
)

SERVICE = "errors"
PID_FILE = "gunicorn.pid"  # inside the data dir
LOG_FILE = "bugsink.log"
CONF_FILE = "bugsink_conf.py"
PROBE_TIMEOUT_S = 2.0
SETUP_TIMEOUT_S = 120.0
SECRET_OUTPUTS = ("dsn", "api_token", "admin_password")
OUTPUTS = ("url", "project_id", "setup_seconds", "running")


def _bin(name: str) -> str:
    # The venv's console scripts sit next to its python.
    return str(Path(sys.executable).with_name(name))


def configure(props: dict[str, Any]) -> Path:
    """Write bugsink_conf.py (local template) with both SQLite databases in the data dir."""
    data_dir = processes.guarded_data_dir(SERVICE, props["data_dir"])
    conf = data_dir / CONF_FILE
    processes.run(
        SERVICE,
        [
            _bin("bugsink-create-conf"),
            "--template=local",
            f"--port={int(props['port'])}",
            f"--host={processes.HOST}",
            f"--output-file={conf}",
        ],  # fmt: skip
        timeout=30,
    )
    with conf.open("a") as f:
        f.write(
            f'\nDATABASES["default"]["NAME"] = {str(data_dir / "db.sqlite3")!r}\n'
            f'DATABASES["snappea"]["NAME"] = {str(data_dir / "snappea.sqlite3")!r}\n'
        )
    conf.chmod(0o600)  # it holds Django's SECRET_KEY
    return conf


def setup_once(props: dict[str, Any], admin_password: str) -> dict[str, Any]:
    """Migrations, superuser and API token: the one-time work (see bugsink_setup.py)."""
    root = str(Path(__file__).resolve().parents[2])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    out = processes.run(
        SERVICE,
        [sys.executable, "-m", "components.local.bugsink_setup", props["data_dir"]],
        timeout=SETUP_TIMEOUT_S,
        input=admin_password + "\n",
        env=env,
        cwd=props["data_dir"],
    )
    return dict(json.loads(out))


def probe(port: int, token: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Whether Bugsink's API answers an authenticated `GET /api/canonical/0/projects/`."""
    import httpx

    try:
        response = httpx.get(
            f"http://{processes.HOST}:{port}{API}/projects/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def serve_at(data_dir: Path, port: int) -> None:
    """Point the configuration's BASE_URL (which the DSNs it hands out name) at `port`: a moved
    server keeps its database, projects and token."""
    conf = data_dir / CONF_FILE
    text = conf.read_text()
    moved = re.sub(r'("BASE_URL": "http://[^:"]+:)\d+', rf"\g<1>{port}", text)
    if moved != text:
        conf.write_text(moved)


def start(props: dict[str, Any], token: str) -> int:
    """Start gunicorn (one worker) detached on loopback and wait for the API; return its pid."""
    port = int(props["port"])
    data_dir = processes.guarded_data_dir(SERVICE, props["data_dir"])
    serve_at(data_dir, port)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bugsink_conf", "PYTHONPATH": str(data_dir)}
    cmd = [_bin("gunicorn"), f"--bind={processes.HOST}:{port}", "--workers=1",
           "--timeout=30", "bugsink.wsgi"]  # fmt: skip
    with open(data_dir / LOG_FILE, "ab") as log:
        # A session of its own: the engine kills the provider's process group when it exits.
        proc = subprocess.Popen(
            cmd, cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    (data_dir / PID_FILE).write_text(str(proc.pid))
    ownership.record_child(proc, data_dir, SERVICE)  # so a failed start is stopped
    hint = f"see {data_dir / LOG_FILE}"

    def ready() -> bool:
        if proc.poll() is not None:  # fail fast instead of waiting out the deadline
            raise ServerStartError(f"errors: Bugsink's gunicorn exited ({proc.returncode}); {hint}")
        return probe(port, token)

    what = f"an answer from GET http://{processes.HOST}:{port}{API}/projects/"
    try:
        processes.wait_until(SERVICE, ready, what, hint=hint)
    except BaseException:
        stop(props)
        raise
    return proc.pid


def stop(props: dict[str, Any], grace_s: float = ownership.GRACE_S) -> None:
    """SIGTERM (then SIGKILL) gunicorn and its workers, if they are ours (`ownership`): a worker
    outlives a killed master and keeps the port (it would answer the next start's probe)."""
    owner = ownership.find(Path(props["data_dir"]), int(props["port"]))
    ownership.stop(owner, SERVICE, grace_s)


def create_project(props: dict[str, Any], token: str) -> tuple[str, str]:
    """Team and project through Bugsink's API; returns (project id, DSN)."""
    tracker = Tracker(f"http://{processes.HOST}:{int(props['port'])}", token)
    project_id = tracker.create_project(tracker.create_team(props["team"]), props["project"])
    return project_id, tracker.dsn(project_id)


@dataclass(frozen=True)
class TrackerSettings(ServerSettings):
    """A Bugsink: the team and project the app reports to."""

    team: str = "mentora"
    project: str = "mentora-app"


class ErrorTrackerProvider(LocalServerProvider[TrackerSettings]):
    """Runs one local Bugsink: configured and migrated once, at create; gunicorn after."""

    SERVICE = SERVICE
    SETTINGS = TrackerSettings
    PID_FILE = PID_FILE
    ID_PREFIX = "bugsink"
    REPLACE_KEYS = ("data_dir", "team", "project")
    HOLDS = "every error event and its project, DSN and token"
    # Made at create and kept by every restart: the database holds them.
    SECRET_KEYS = (*SECRET_OUTPUTS, "project_id", "setup_seconds")

    def new_secrets(self, s: TrackerSettings) -> Secrets:
        return {"admin_password": secrets.token_urlsafe(24)}

    def set_up(self, s: TrackerSettings, keys: Secrets) -> None:
        props = {"port": s.port, "data_dir": str(s.data_dir)}
        configure(props)
        setup = setup_once(props, keys["admin_password"])
        keys["api_token"] = setup["token"]
        seeded = " (from the migrated template)" if setup.get("template") else ""
        keys["setup_seconds"] = (
            f"migrate {setup['migrate_s']}s, snappea {setup['snappea_s']}s{seeded}"
        )

    def start(self, s: TrackerSettings, keys: Secrets) -> Secrets:
        start({"port": s.port, "data_dir": str(s.data_dir)}, keys["api_token"])
        return keys

    def moved(self, s: TrackerSettings, keys: Secrets) -> Secrets:
        """The project's DSN names the port: read it again from the API."""
        tracker = Tracker(f"http://{processes.HOST}:{s.port}", keys["api_token"])
        hint = f"see {s.data_dir / LOG_FILE}"
        return {**keys, "dsn": tracker.dsn(keys["project_id"], " after the move", hint)}

    def provision(self, s: TrackerSettings, keys: Secrets) -> None:
        props = {"port": s.port, "team": s.team, "project": s.project}
        keys["project_id"], keys["dsn"] = create_project(props, keys["api_token"])

    def probe(self, s: TrackerSettings, keys: Secrets) -> bool:
        return processes.port_open(s.port) and probe(s.port, keys.get("api_token", ""))

    def outputs(self, s: TrackerSettings, keys: Secrets) -> dict[str, Any]:
        return {"team": s.team, "project": s.project, "url": f"http://{processes.HOST}:{s.port}"}


class ErrorTracker(LocalServerResource):
    """A local Sentry-compatible error tracker (Bugsink) with one project for the app."""

    url: pulumi.Output[str]
    project_id: pulumi.Output[str]
    dsn: pulumi.Output[str]
    api_token: pulumi.Output[str]
    admin_password: pulumi.Output[str]
    running: pulumi.Output[bool]

    PROVIDER = ErrorTrackerProvider
    OUTPUTS = OUTPUTS
    SECRET_OUTPUTS = SECRET_OUTPUTS
