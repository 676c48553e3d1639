"""Wires the local stack: embedded Postgres, Redis and S3 store, the app env, `.env.local`."""

from __future__ import annotations

from typing import Any

import pulumi

from components.app_secrets import AppSecrets, AppSecretsArgs
from components.cache import Cache, CacheArgs, LocalRedisArgs
from components.database import Database, DatabaseArgs, LocalPostgresArgs
from components.deploy_target import DeployTarget, DeployTargetArgs, LocalAppArgs
from components.local.preflight import port_problems
from components.storage import LocalS3Args, Storage, StorageArgs
from stacks.config import PROJECT_ROOT, StackConfig
from stacks.errors import ConfigError
from stacks.outputs import export_contract

MIGRATIONS_DIR = PROJECT_ROOT / "supabase" / "migrations"


def build_local(config: StackConfig) -> dict[str, pulumi.Output[Any]]:
    """Declare every local service; export and return the outputs (contract + env_file)."""
    local = config.local
    assert local is not None  # guaranteed by config validation for target=local
    state = local.state_dir
    ports = {
        "postgresPort": local.postgres_port,
        "redisPort": local.redis_port,
        "storagePort": local.storage_port,
        "appPort": local.app_port,
    }
    dirs = {
        "postgresPort": state / "postgres",
        "redisPort": state / "redis",
        "storagePort": state / "s3",
        "appPort": state / "app",
    }
    problems = port_problems(config.stack, ports, dirs)
    if problems:  # before any resource: a taken port must not leave a half-built stack
        raise ConfigError(config.stack, problems)
    database = Database(
        "database",
        DatabaseArgs(
            migrations_dir=str(MIGRATIONS_DIR),
            local=LocalPostgresArgs(
                port=local.postgres_port,
                data_dir=str(dirs["postgresPort"]),
                database=config.database_name,
                app_user=config.app_user,
            ),
        ),
    )
    cache = Cache(
        "cache",
        CacheArgs(local=LocalRedisArgs(port=local.redis_port, data_dir=str(dirs["redisPort"]))),
    )
    storage = Storage(
        "storage",
        StorageArgs(
            bucket_name=config.bucket_name,
            region=config.region,
            local=LocalS3Args(port=local.storage_port, data_dir=str(dirs["storagePort"])),
        ),
    )
    secrets = AppSecrets(
        "app-secrets",
        AppSecretsArgs(
            database_url=database.url,
            redis_url=cache.url,
            bucket_name=storage.bucket_name,
            storage_region=storage.region,
            storage_endpoint=storage.endpoint,
            storage_access_key_id=storage.access_key_id,
            storage_secret_access_key=storage.secret_access_key,
            log_level=config.log_level,
            node_env=config.node_env,
            app_url=f"http://127.0.0.1:{local.app_port}",
        ),
    )
    target = DeployTarget(
        "app",
        DeployTargetArgs(
            env=secrets.env,
            local_env_file=str(local.env_file),
            local_app=LocalAppArgs(
                command=local.app_command,
                cwd=str(local.app_cwd),
                port=local.app_port,
                health_path=local.app_health_path,
                data_dir=str(dirs["appPort"]),
                extra_env={"RATE_LIMIT_CHAT_PER_MIN": str(config.rate_limit_chat_per_min)},
            ),
        ),
    )
    contract = export_contract(
        database=database, cache=cache, storage=storage, secrets=secrets, target=target
    )
    assert target.env_file is not None  # the local target always writes one
    pulumi.export("env_file", target.env_file)
    return {**contract, "env_file": target.env_file}
