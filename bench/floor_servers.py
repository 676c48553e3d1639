"""The floor's servers, started by the providers' own steps (`set_up`, `start`, `provision`) with
the stack's settings and none of the lifecycle around them (no orphan check, no ownership
record, no engine): the floor cannot drift from what the stack runs, because it runs the same
code. `FloorServers.stop` stops whatever was started and is safe at any point (even mid-start).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.proc import SCRUB
from bench.providers import SECRET_KEYS
from components.local import processes
from components.local.app_process import AppProcessProvider, AppSettings
from components.local.error_tracker import ErrorTrackerProvider, TrackerSettings
from components.local.inngest_server import InngestDevServerProvider, InngestSettings
from components.local.postgres_server import PostgresProvider, PostgresSettings
from components.local.redis_server import RedisProvider
from components.local.s3_server import S3Provider, S3Settings
from components.local.server_provider import LocalServerProvider, Secrets, ServerSettings
from components.local.unix_user import remove_service_user
from devtools.project import REPO, free_port
from stacks.config import LocalSettings

HOST = processes.HOST
MIGRATIONS = REPO / "supabase" / "migrations"
APP_COMMAND = str(LocalSettings.model_fields["app_command"].default)
SERVICES = ("postgres", "redis", "storage", "jobs", "errors", "app")


@dataclass
class FloorServer:
    """One server of the floor: its provider, typed settings and the secrets it runs with."""

    provider: LocalServerProvider[Any]
    settings: ServerSettings
    keys: Secrets = field(default_factory=dict)

    def __post_init__(self) -> None:
        processes.claim_data_dir(self.provider.SERVICE, str(self.settings.data_dir))
        self.keys = self.provider.new_secrets(self.settings)
        self._scrub()

    def set_up(self) -> None:
        self.provider.set_up(self.settings, self.keys)
        self._scrub()

    def start(self) -> None:
        self.keys = self.provider.start(self.settings, self.keys)
        self._scrub()

    def provision(self) -> None:
        self.provider.provision(self.settings, self.keys)
        self._scrub()

    def _scrub(self) -> None:
        SCRUB.add(*(value for key, value in self.keys.items() if key in SECRET_KEYS))

    def outputs(self) -> dict[str, Any]:
        return self.provider.outputs(self.settings, self.keys)

    def stop(self) -> None:
        self.provider.stop(self.settings, grace_s=0)
        if isinstance(self.provider, PostgresProvider):  # its own OS user goes with it
            remove_service_user(Path(self.settings.data_dir))


@dataclass
class FloorServers:
    """One set of floor servers in `base`, on free ports."""

    base: Path
    ports: dict[str, int] = field(default_factory=lambda: {k: free_port() for k in SERVICES})
    servers: dict[str, FloorServer] = field(default_factory=dict)

    def _dir(self, name: str) -> Path:
        return self.base / name

    def make(self, service: str) -> FloorServer:
        """The floor server of `service` (its folder claimed, its secrets generated)."""
        port, base = self.ports[service], self.base
        self.base.mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)  # the postgres user traverses it
        settings: dict[str, ServerSettings] = {
            "postgres": PostgresSettings(port=port, data_dir=base / "postgres"),
            "redis": ServerSettings(port=port, data_dir=base / "redis"),
            "storage": S3Settings(port=port, data_dir=base / "s3"),
            "jobs": InngestSettings(
                port=port, data_dir=base / "inngest", app_url=f"{self.url('app')}/api/inngest"
            ),
            "errors": TrackerSettings(port=port, data_dir=base / "bugsink"),
        }
        providers: dict[str, LocalServerProvider[Any]] = {
            "postgres": PostgresProvider(),
            "redis": RedisProvider(),
            "storage": S3Provider(),
            "jobs": InngestDevServerProvider(),
            "errors": ErrorTrackerProvider(),
        }
        self.servers[service] = FloorServer(providers[service], settings[service])
        return self.servers[service]

    def url(self, service: str) -> str:
        return f"http://{HOST}:{self.ports[service]}"

    def migrate(self) -> None:
        """Every migration through the migrations resource's own runner."""
        from components.migrations import runner

        runner.apply(self.servers["postgres"].outputs()["admin_url"], MIGRATIONS)

    def app_env(self) -> dict[str, str]:
        """The env names the stack gives the app (values of this floor)."""
        pg, redis = self.servers["postgres"].outputs(), self.servers["redis"].outputs()
        s3, errors = self.servers["storage"], self.servers["errors"]
        return {
            "INNGEST_DEV": "1",
            "INNGEST_BASE_URL": self.url("jobs"),
            "SENTRY_DSN": errors.keys.get("dsn", ""),
            "SENTRY_AUTH_TOKEN": errors.keys.get("api_token", ""),
            "SENTRY_API_URL": self.url("errors"),
            "SENTRY_PROJECT": errors.keys.get("project_id", ""),
            "DATABASE_URL": pg["app_url"],
            "REDIS_URL": redis["url"],
            "AWS_REGION": "us-east-1",
            "AWS_S3_BUCKET": "mentora-videos",
            "AWS_ENDPOINT_URL_S3": self.url("storage"),
            "AWS_ACCESS_KEY_ID": s3.keys["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": s3.keys["secret_access_key"],
            "NEXT_PUBLIC_APP_URL": self.url("app"),
            "NODE_ENV": "development",
            "LOG_LEVEL": "debug",
            "RATE_LIMIT_CHAT_PER_MIN": "20",
        }

    def env_file(self) -> None:
        """`.env.local`: every env name, mode 0600 from birth."""
        fd = os.open(self.base / ".env.local", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.writelines(f"{k}={v}\n" for k, v in sorted(self.app_env().items()))

    def app_start(self) -> None:
        """The app process provider's start, until /api/health answers."""
        settings = AppSettings(
            port=self.ports["app"],
            data_dir=self.base / "app",
            command=APP_COMMAND,
            cwd=str(REPO),
            env=self.app_env(),
        )
        self.servers["app"] = FloorServer(AppProcessProvider(), settings)
        self.servers["app"].start()

    def stop(self) -> None:
        """Stop every server this object started (`ownership`); the folder is left to the
        caller."""
        for server in reversed(list(self.servers.values())):
            server.stop()
