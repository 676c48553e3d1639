"""`BackupArchiver`: continuous archiving of the local Postgres into the backup bucket.

The archiver's process (components/local/backup_daemon.py) uploads the WAL segments Postgres's
`archive_command` spools, takes base backups with `pg_basebackup` and applies retention. It runs
on the shared server lifecycle (server_provider.py): created by `up`, probed on refresh (its
status answers and reports no error), restarted when its settings change (the S3 store issues a
new backup key at each of its starts), removed by destroy (its local folder only: the bucket's
backups stay with the store).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.local import ownership, processes
from components.local.backup_daemon import ENV, PID_FILE
from components.local.server_provider import (
    LocalServerProvider,
    LocalServerResource,
    Secrets,
    ServerSettings,
)

SERVICE = "backups"
PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class ArchiverSettings(ServerSettings):
    """What the archiver reads (the spool, Postgres) and where it writes (the backup bucket)."""

    spool: str = ""
    pg_port: int = 0
    admin_user: str = ""
    admin_password: str = ""
    endpoint: str = ""
    region: str = "us-east-1"
    bucket: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""
    archive_timeout: int = 60
    retention_days: int = 7
    base_backups_kept: int = 2


def status(port: int, timeout_s: float = PROBE_TIMEOUT_S) -> dict[str, Any] | None:
    """The archiver's `GET /status`, or None when it does not answer within `timeout_s`."""
    import httpx

    try:
        answer = httpx.get(f"http://{processes.HOST}:{port}/status", timeout=timeout_s)
        return dict(answer.json()) if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


class ArchiverProvider(LocalServerProvider[ArchiverSettings]):
    """Runs the archiver's process; settings reach it in its environment, never in argv."""

    SERVICE = SERVICE
    SETTINGS = ArchiverSettings
    PID_FILE = PID_FILE
    ID_PREFIX = "archiver"
    RESTART_KEYS = (
        "spool",
        "pg_port",
        "admin_user",
        "admin_password",
        "endpoint",
        "region",
        "bucket",
        "access_key_id",
        "secret_access_key",
        "archive_timeout",
        "retention_days",
        "base_backups_kept",
    )

    def start(self, s: ArchiverSettings, keys: Secrets) -> Secrets:
        data_dir = processes.guarded_data_dir(SERVICE, str(s.data_dir), s.hints)
        host = processes.HOST
        config = {
            "port": s.port,
            "spool": s.spool,
            "pg_port": s.pg_port,
            "admin_user": s.admin_user,
            "admin_password": s.admin_password,
            "admin_url": f"postgresql://{host}:{s.pg_port}/postgres?user={s.admin_user}",
            "endpoint": s.endpoint,
            "region": s.region,
            "bucket": s.bucket,
            "access_key_id": s.access_key_id,
            "secret_access_key": s.secret_access_key,
            "archive_timeout": s.archive_timeout,
            "retention_days": s.retention_days,
            "base_backups_kept": s.base_backups_kept,
        }
        root = str(Path(__file__).resolve().parents[2])
        python_path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        # libpq reads PGPASSWORD for the heartbeat; pg_basebackup gets it the same way.
        env = {
            **os.environ,
            "PYTHONPATH": python_path,
            ENV: json.dumps(config),
            "PGPASSWORD": s.admin_password,
        }
        command = [sys.executable, "-m", "components.local.backup_daemon", str(data_dir)]
        (data_dir / PID_FILE).unlink(missing_ok=True)
        with open(data_dir / "archiver.log", "ab") as log:
            proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # the engine kills the provider's process group
                cwd=data_dir,
            )
        ownership.record_child(proc, data_dir, SERVICE)  # so a failed start is stopped
        processes.wait_until(
            SERVICE,
            lambda: proc.poll() is None and status(s.port) is not None,
            f"the backup archiver answering on {processes.HOST}:{s.port}/status",
            hint=f"see {data_dir / 'archiver.log'}",
        )
        return keys

    def probe(self, s: ArchiverSettings, keys: Secrets) -> bool:
        # Running means archiving: one that answers but cannot upload is restarted by `up`
        # (after the store, whose restart hands it a new key).
        answer = status(s.port)
        return answer is not None and not answer.get("errors")

    def outputs(self, s: ArchiverSettings, keys: Secrets) -> dict[str, Any]:
        return {"status_url": f"http://{processes.HOST}:{s.port}/status"}


class BackupArchiver(LocalServerResource):
    """The local stack's backup archiver process: WAL and base backups into the backup bucket."""

    status_url: pulumi.Output[str]
    running: pulumi.Output[bool]

    PROVIDER = ArchiverProvider
    OUTPUTS = ("status_url", "host", "running")
    SECRET_SETTINGS = ("admin_password", "access_key_id", "secret_access_key")
