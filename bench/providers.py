"""The stack's dynamic providers called directly, without the Pulumi engine, in the stack's
dependency order: what the program's own code costs on the cold path.

cold up = engine overhead + this; this - floor = what the lifecycle (orphan check, folder
claim, ownership record) adds to the providers' own steps.
Each provider's `create` is timed; `delete` (registered as cleanup) removes everything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.cleanup import Cleanup
from bench.model import Report
from bench.proc import SCRUB
from devtools.project import REPO, free_port
from stacks.config import LocalSettings

APP_COMMAND = str(LocalSettings.model_fields["app_command"].default)
SECRET_KEYS = (
    "admin_password",
    "app_password",
    "password",
    "secret_access_key",
    "dsn",
    "api_token",
)
SERVICES = ("postgres", "redis", "storage", "jobs", "errors", "app")


class DirectStack:
    """Creates the local stack's resources by calling their providers; deletes them in reverse."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.ports = {k: free_port() for k in SERVICES}
        self.created: list[tuple[Any, str, dict[str, Any]]] = []
        self.steps: dict[str, float] = {}

    def _create(self, label: str, provider: Any, props: dict[str, Any]) -> dict[str, Any]:
        start = time.monotonic()
        result = provider.create(props)
        self.steps[label] = time.monotonic() - start
        outs = dict(result.outs)
        SCRUB.add(*(str(outs[k]) for k in SECRET_KEYS if outs.get(k)))
        self.created.append((provider, result.id, outs))
        return outs

    def postgres_chain(self) -> dict[str, Any]:
        from components.local.postgres_server import PostgresProvider
        from components.migrations.resource import MigrationsProvider

        pg = self._create(
            "postgres server: create",
            PostgresProvider(),
            {
                "port": self.ports["postgres"],
                "data_dir": str(self.state / "postgres"),
                "database": "mentora",
                "app_user": "mentora_app",
            },
        )
        migrations = {
            "admin_url": pg["admin_url"],
            "migrations_dir": str(REPO / "supabase/migrations"),
        }
        self._create("migrations: create (apply all)", MigrationsProvider(), migrations)
        return pg

    def redis(self) -> dict[str, Any]:
        from components.local.redis_server import RedisProvider

        props = {"port": self.ports["redis"], "data_dir": str(self.state / "redis")}
        return self._create("redis server: create", RedisProvider(), props)

    def storage(self) -> dict[str, Any]:
        from components.local.s3_server import S3Provider

        props = {
            "port": self.ports["storage"],
            "data_dir": str(self.state / "s3"),
            "bucket": "mentora-videos",
            "region": "us-east-1",
        }
        return self._create("S3 store: create (start + provision)", S3Provider(), props)

    def jobs(self) -> dict[str, Any]:
        from components.local.inngest_server import InngestDevServerProvider

        props = {
            "port": self.ports["jobs"],
            "data_dir": str(self.state / "inngest"),
            "app_url": f"http://127.0.0.1:{self.ports['app']}/api/inngest",
            "hints": {},
        }
        return self._create("Inngest Dev Server: create", InngestDevServerProvider(), props)

    def errors(self) -> dict[str, Any]:
        from components.local.error_tracker import ErrorTrackerProvider

        props = {
            "port": self.ports["errors"],
            "data_dir": str(self.state / "bugsink"),
            "team": "mentora",
            "project": "mentora-app",
            "hints": {},
        }
        label = "Bugsink: create (conf, setup, gunicorn, project)"
        return self._create(label, ErrorTrackerProvider(), props)

    def app(self, outs: dict[str, dict[str, Any]]) -> None:
        from components.local.app_process import AppProcessProvider
        from components.local.env_file import EnvFileProvider

        pg, redis, s3 = outs["postgres"], outs["redis"], outs["storage"]
        jobs, errors = outs["jobs"], outs["errors"]
        app_url = f"http://127.0.0.1:{self.ports['app']}"
        env = {
            "INNGEST_DEV": "1",
            "INNGEST_BASE_URL": jobs["url"],
            "SENTRY_DSN": errors["dsn"],
            "SENTRY_AUTH_TOKEN": errors["api_token"],
            "SENTRY_API_URL": errors["url"],
            "SENTRY_PROJECT": errors["project_id"],
            "DATABASE_URL": pg["app_url"],
            "REDIS_URL": redis["url"],
            "AWS_ACCESS_KEY_ID": s3["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": s3["secret_access_key"],
            "AWS_REGION": "us-east-1",
            "AWS_S3_BUCKET": "mentora-videos",
            "AWS_ENDPOINT_URL_S3": s3["endpoint"],
            "NEXT_PUBLIC_APP_URL": app_url,
            "NODE_ENV": "development",
            "LOG_LEVEL": "debug",
        }
        env_file = {"path": str(self.state / ".env.local"), "values": env}
        self._create("env file: create", EnvFileProvider(), env_file)
        props = {
            "command": APP_COMMAND,
            "cwd": str(REPO),
            "port": self.ports["app"],
            "health_path": "/api/health",
            "data_dir": str(self.state / "app"),
            "env": {**env, "RATE_LIMIT_CHAT_PER_MIN": "20"},
        }
        self._create("app process: create (until healthy)", AppProcessProvider(), props)

    def create_all(self) -> float:
        """Everything, chains concurrent like the engine (the five servers depend on nothing;
        the env file and the app on all of them); the wall time."""
        start = time.monotonic()
        chains: dict[str, Callable[[], dict[str, Any]]] = {
            "postgres": self.postgres_chain,
            "redis": self.redis,
            "storage": self.storage,
            "jobs": self.jobs,
            "errors": self.errors,
        }
        with ThreadPoolExecutor(max_workers=len(chains), thread_name_prefix="direct") as pool:
            futures = {name: pool.submit(chain) for name, chain in chains.items()}
            outs = {name: future.result() for name, future in futures.items()}
        self.app(outs)
        return time.monotonic() - start

    def delete_all(self) -> None:
        while self.created:
            provider, id_, outs = self.created.pop()
            provider.delete(id_, outs)


def providers_direct(report: Report, cleanup: Cleanup, state: Path) -> None:
    """One round: create the stack through its providers (timed), then delete it."""
    state.mkdir()
    direct = DirectStack(state)
    cleanup.push("delete the directly created servers", direct.delete_all)
    total = direct.create_all()
    row = report.row("providers_direct", "providers called directly (no engine)", "cold path")
    row.samples.append(total)
    row.note = f"last round one step after another: {sum(direct.steps.values()):.2f} s"
    for label, seconds in direct.steps.items():
        report.row(f"direct:{label}", "  " + label, "cold path").samples.append(seconds)
    direct.delete_all()


def wait_lag(report: Report) -> None:
    """How late `components.local.processes.wait_until` (the providers' readiness poll) notices
    a server that becomes ready after 0.45 s (the app) and 0.8 s (the S3 store) here."""
    from components.local.processes import wait_until

    for ready_after in (0.45, 0.8):
        ready_at = time.monotonic() + ready_after

        def ready(at: float = ready_at) -> bool:
            return time.monotonic() >= at

        wait_until("bench", ready, "ready", 10.0)
        lag = time.monotonic() - ready_at
        label = f"  readiness poll lag, server ready after {ready_after:g} s"
        report.row(f"wait_lag_{ready_after:g}", label, "cold path").samples.append(lag)
