"""Wires the local stack: embedded Postgres, Redis, S3 store, Inngest Dev Server, Bugsink, the
app and its `.env.local`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from components.local.app_process import source_digest
from components.local.backups import LocalBackups, LocalBackupsArgs
from components.local.branch_database import LocalBranchDatabase
from components.local.branch_error_tracking import LocalBranchErrorTracking
from components.local.branch_storage import LocalBranchStorage
from components.local.cache import LocalCache, LocalCacheArgs
from components.local.database import LocalDatabase, LocalDatabaseArgs
from components.local.deploy_target import LocalDeployTarget, LocalDeployTargetArgs
from components.local.error_tracking import LocalErrorTracking, LocalErrorTrackingArgs
from components.local.errors import HOST
from components.local.job_queue import LocalJobQueue, LocalJobQueueArgs
from components.local.preflight import taken_ports
from components.local.storage import LocalStorage, LocalStorageArgs
from components.local.watch import LocalWatch, LocalWatchArgs
from stacks.app_env import app_secrets
from stacks.config import MIGRATIONS_DIR, PROJECT_ROOT, LocalSettings, StackConfig
from stacks.contract import Target
from stacks.errors import ConfigError
from stacks.local_tenant import (
    base_outputs,
    review_base,
    tenant_database,
    tenant_errors,
    tenant_storage,
)
from stacks.outputs import export_contract, export_more
from stacks.servers import SERVERS

# The settings that make a server's identity (a change replaces it), by their config key.
IDENTITY_KEYS = {
    "database": "databaseName",
    "app_user": "appUser",
    "bucket": "bucketName",
    "region": "region",
}


def server_dirs(local: LocalSettings) -> dict[str, tuple[int, Path]]:
    """Each local server's port and data dir: service -> (port, folder); only the servers the
    stack runs (the watch with mentora:watch, the archiver with backups, Postgres, the S3
    store and Bugsink unless it is on a base stack's)."""
    skipped = {"watch": not local.watch, "backups": not local.backups}
    skipped |= dict.fromkeys(("postgres", "storage", "errors"), bool(local.base_stack))
    return {
        service: (local.ports[key], local.state_dir / folder)
        for service, (key, folder) in SERVERS.items()
        if not skipped.get(service)
    }


def build_local(config: StackConfig) -> dict[str, pulumi.Output[Any]]:
    """Declare every local service; export and return the outputs."""
    local = config.local
    assert local is not None  # guaranteed by config validation for target=local
    stack = config.stack
    where = server_dirs(local)
    taken = taken_ports(where)
    if taken:  # before any resource: a taken port must not leave a half-built stack
        raise ConfigError(stack, [_port_problem(stack, t.service, t.port, t.holder) for t in taken])

    def hints(service: str) -> dict[str, str]:
        """How the user changes a server's settings, for its error messages."""
        keys = {"port": SERVERS[service][0], "data_dir": "stateDir", **IDENTITY_KEYS}
        return {setting: f"mentora:{key} in Pulumi.{stack}.yaml" for setting, key in keys.items()}

    def data_dir(service: str) -> str:
        return str(where[service][1])

    shared = base_outputs(config) if local.base_stack else None
    database: LocalDatabase | LocalBranchDatabase
    storage: LocalStorage | LocalBranchStorage
    own_database: LocalDatabase | None = None  # servers of its own (not on a base's)
    own_storage: LocalStorage | None = None
    own_errors: LocalErrorTracking | None = None
    if shared is not None:  # on its base's Postgres and store (stacks/local_tenant.py)
        database, storage = tenant_database(config, shared), tenant_storage(config, shared)
    else:
        database = own_database = LocalDatabase(
            "database",
            LocalDatabaseArgs(
                port=local.postgres_port,
                data_dir=data_dir("postgres"),
                database=config.database_name,
                app_user=config.app_user,
                migrations_dir=str(MIGRATIONS_DIR),
                archive_timeout=local.archive_timeout if local.backups else 0,
                hints=hints("postgres"),
            ),
        )
        storage = own_storage = LocalStorage(
            "storage",
            LocalStorageArgs(
                bucket_name=config.bucket_name,
                region=config.region,
                port=local.storage_port,
                data_dir=data_dir("storage"),
                backup_bucket=local.backup_bucket if local.backups else "",
                hints=hints("storage"),
            ),
        )
    cache = LocalCache(
        "cache",
        LocalCacheArgs(port=local.redis_port, data_dir=data_dir("redis"), hints=hints("redis")),
    )
    backups = None
    if local.backups and own_database and own_storage:  # stacks/rules.py: not on a base
        backups = LocalBackups(
            "backups",
            LocalBackupsArgs(
                port=local.backup_archiver_port,
                data_dir=data_dir("backups"),
                postgres_port=local.postgres_port,
                postgres_data_dir=data_dir("postgres"),
                archive_timeout=local.archive_timeout,
                retention_days=local.backup_retention_days,
                base_backups_kept=local.backup_base_backups_kept,
                hints=hints("backups"),
            ),
            own_database.server,
            own_storage,
        )
    app_url = f"http://{HOST}:{local.app_port}"
    jobs = LocalJobQueue(
        "jobs",
        LocalJobQueueArgs(
            port=local.inngest_port,
            data_dir=data_dir("jobs"),
            app_url=f"{app_url}/api/inngest",
            hints=hints("jobs"),
        ),
    )
    errors: LocalErrorTracking | LocalBranchErrorTracking
    if shared is not None:  # a project in its base's Bugsink; its token is smoke's only
        errors = tenant_errors(config, shared)
        issued: dict[str, pulumi.Output[str]] = {"SENTRY_DSN": errors.dsn}
    else:
        errors = own_errors = LocalErrorTracking(
            "errors",
            LocalErrorTrackingArgs(
                port=local.error_tracker_port, data_dir=data_dir("errors"), hints=hints("errors")
            ),
        )
        issued = {"SENTRY_DSN": errors.dsn, "SENTRY_AUTH_TOKEN": errors.api_token}
    secrets = app_secrets(
        config,
        database_url=database.url,
        redis_url=cache.url,
        storage=storage,
        storage_endpoint=storage.endpoint,
        app_url=app_url,
        issued=issued,
        services={
            "INNGEST_DEV": "1",
            "INNGEST_BASE_URL": jobs.url,
            "SENTRY_API_URL": errors.api_url,
            "SENTRY_PROJECT": errors.project_id,
        },
    )
    deploy = LocalDeployTarget(
        "app",
        LocalDeployTargetArgs(
            env=secrets.env,
            env_file=str(local.env_file),
            command=local.app_command,
            cwd=str(local.app_cwd),
            port=local.app_port,
            health_path=local.app_health_path,
            data_dir=data_dir("app"),
            source_digest=source_digest(local.app_source_dir)
            if local.app_source_dir.is_dir()
            else "",
            extra_env={
                "RATE_LIMIT_CHAT_PER_MIN": str(config.rate_limit_chat_per_min),
                # The app re-reads its credentials from this file (`mentora-infra rotate`).
                "MENTORA_ENV_FILE": str(Path(local.env_file).resolve()),
            },
            hints=hints("app"),
        ),
    )
    outputs = export_contract(
        Target.LOCAL,
        database=database,
        cache=cache,
        storage=storage,
        secrets=secrets,
        deploy=deploy,
        extra={
            "env_file": deploy.env_file,
            "database_server_urn": database.server_urn,
            **extra_outputs(local, own_database, own_storage, own_errors, backups),
            **({"smoke_env": {"SENTRY_AUTH_TOKEN": errors.api_token}} if shared else {}),
        },
    )
    if local.watch:
        # Last: it watches every other server, through the outputs just exported.
        watch = LocalWatch(
            "watch",
            LocalWatchArgs(
                port=local.watch_port,
                data_dir=data_dir("watch"),
                stack=stack,
                every_s=local.watch_every,
                repo=str(PROJECT_ROOT),
                outputs=pulumi.Output.all(**outputs),
                hints=hints("watch"),
            ),
        )
        more = {"watch_log": watch.log_file, "watch_metrics_url": watch.metrics_url}
        export_more(Target.LOCAL, more)
        outputs = {**outputs, **more}
    return outputs


def extra_outputs(
    local: LocalSettings,
    database: LocalDatabase | None,
    storage: LocalStorage | None,
    errors: LocalErrorTracking | None,
    backups: LocalBackups | None,
) -> dict[str, pulumi.Output[Any]]:
    """`review_base` of a stack with servers of its own, `backup` of one that keeps backups."""
    if database is None or storage is None or errors is None:
        return {}
    extra = {"review_base": review_base(database, storage, errors)}
    if backups is not None:
        extra["backup"] = backup_output(local, database, storage, backups)
    return extra


def backup_output(
    local: LocalSettings, database: LocalDatabase, storage: LocalStorage, backups: LocalBackups
) -> pulumi.Output[dict[str, Any]]:
    """The `backup` output (secret): where the backups are, with the keys to read them, for
    smoke's freshness check and `mentora-infra drill|restore`."""
    return pulumi.Output.all(
        endpoint=storage.endpoint,
        region=storage.region,
        access_key_id=storage.backup_access_key_id,
        secret_access_key=storage.backup_secret_access_key,
        status_url=backups.status_url,
        admin_url=database.server.admin_url,
    ).apply(
        lambda values: {
            **values,
            "bucket": local.backup_bucket,
            "archive_timeout": local.archive_timeout,
            "retention_days": local.backup_retention_days,
            "postgres_data_dir": str(local.state_dir / SERVERS["postgres"][1]),
            "postgres_port": local.postgres_port,
        }
    )


def _port_problem(stack: str, service: str, port: int, holder: str = "") -> str:
    key = SERVERS[service][0]
    who = f" ({holder})" if holder else ""
    return (
        f"mentora:{key}={port}: {service}: port {port} on {HOST} is already in use by another "
        f"program{who}; stop what holds it or set mentora:{key} in Pulumi.{stack}.yaml to a free "
        f"port: pulumi config set mentora:{key} <port> -s {stack}"
    )
