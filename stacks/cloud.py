"""Wires a cloud stack (dev, prod): Supabase, Upstash, AWS S3 and Vercel, same outputs as local."""

from __future__ import annotations

from typing import Any

import pulumi

from components.cloud.cache import UpstashCache, UpstashCacheArgs
from components.cloud.database import SupabaseDatabase, SupabaseDatabaseArgs
from components.cloud.deploy_target import VercelDeployTarget, VercelDeployTargetArgs
from components.cloud.health_monitor import HealthMonitor, HealthMonitorArgs
from components.cloud.providers import CloudAccounts, CloudProviders
from components.cloud.sentry_alerts import SentryAlerts, SentryAlertsArgs
from components.cloud.storage import S3Storage, S3StorageArgs
from stacks.app_env import app_secrets
from stacks.cloud_settings import ISSUED_SECRETS, SMOKE_SECRETS
from stacks.config import MIGRATIONS_DIR, StackConfig
from stacks.contract import Target
from stacks.outputs import export_contract

# Vercel environments each stack's variables go to. Each stack owns its Vercel project, whose
# domain serves that project's production deployment: so every stack deploys to production of
# its own project; dev's variables also reach its pull-request previews.
VERCEL_TARGETS: dict[str, list[str]] = {"prod": ["production"]}
DEFAULT_VERCEL_TARGETS = ["production", "preview"]
HEALTH_PATH = "/api/health"  # docs/app-contract.md


def build_cloud(config: StackConfig) -> dict[str, pulumi.Output[Any]]:
    """Declare every cloud service of the stack; export and return the outputs contract."""
    cloud = config.cloud
    assert cloud is not None  # guaranteed by config validation for target=cloud
    secret, providers = secrets_and_providers(config)
    prefix = f"mentora-{config.stack}"
    database = SupabaseDatabase(
        "database",
        SupabaseDatabaseArgs(
            project_name=prefix,
            organization=cloud.supabase_organization,
            region=config.region,
            instance_size=cloud.supabase_instance_size,
            access_token=secret["supabaseAccessToken"],
            migrations_dir=str(MIGRATIONS_DIR),
            allowed_cidrs=cloud.supabase_allowed_cidrs,
            pitr_days=cloud.supabase_pitr_days,
            hardened=cloud.hardened,
            random_provider=providers.random,
        ),
    )
    cache = UpstashCache(
        "cache",
        UpstashCacheArgs(
            database_name=f"{prefix}-cache",
            primary_region=config.region,
            hardened=cloud.hardened,
            provider=providers.upstash,
        ),
    )
    storage = S3Storage(
        "storage",
        S3StorageArgs(
            bucket_name=config.bucket_name,
            region=config.region,
            app_user_name=f"{prefix}-app",
            cors_origins=cloud.cors_origins,
            hardened=cloud.hardened,
            provider=providers.aws,
        ),
    )
    secrets = app_secrets(
        config,
        database_url=database.url,
        redis_url=cache.url,
        storage=storage,
        app_url=cloud.app_url,
        supabase_url=database.api_url,
        supabase_anon_key=database.anon_key,
        supabase_service_role_key=database.service_role_key,
        redis_token=cache.rest_token,
        redis_rest_url=cache.rest_url,
        issued={env: secret[key] for key, env in ISSUED_SECRETS.items()},
        services={
            name: value
            for name, value in (
                ("SENTRY_ORG", cloud.sentry_org),
                ("SENTRY_PROJECT", cloud.sentry_project),
            )
            if value
        },
    )
    deploy = VercelDeployTarget(
        "app",
        VercelDeployTargetArgs(
            project_name=cloud.vercel_project,
            git_repository=cloud.git_repository,
            production_branch=cloud.git_production_branch,
            ref=cloud.deploy_ref,
            app_url=cloud.app_url,
            targets=VERCEL_TARGETS.get(config.stack, DEFAULT_VERCEL_TARGETS),
            variables=secrets.variables,
            fingerprint=secrets.fingerprint,
            domains=cloud.domains,
            provider=providers.vercel,
        ),
    )
    # Monitoring: the production origin's health, from Checkly; the app's errors, in Sentry.
    HealthMonitor(
        "monitor",
        HealthMonitorArgs(
            check_name=f"{prefix} /api/health",
            health_url=deploy.production_url.apply(lambda url: f"{url}{HEALTH_PATH}"),
            locations=cloud.monitor_locations,
            alert_email=cloud.alert_email,
            alert_webhook_url=secret.get("alertWebhookUrl"),
            provider=providers.checkly,
        ),
    )
    SentryAlerts(
        "sentry-alerts",
        SentryAlertsArgs(
            organization=cloud.sentry_org,
            project=cloud.sentry_project,
            rule_name=prefix,
            token=secret["sentryAlertsToken"],
            increase_percent=cloud.sentry_spike_percent,
        ),
    )
    return export_cloud(database, cache, storage, secrets, deploy, smoke_env(secret))


def secrets_and_providers(
    config: StackConfig,
) -> tuple[dict[str, pulumi.Output[str]], CloudProviders]:
    """The stack's secrets as Pulumi secrets (by config key), and the vendors' providers
    configured with them: one place for every cloud program (production, review)."""
    cloud = config.cloud
    assert cloud is not None  # guaranteed by config validation for target=cloud
    secret = {key: pulumi.Output.secret(v.get_secret_value()) for key, v in config.secrets.items()}
    providers = CloudProviders.create(
        CloudAccounts(
            region=config.region,
            upstash_email=cloud.upstash_email,
            upstash_api_key=secret["upstashApiKey"],
            vercel_api_token=secret["vercelApiToken"],
            vercel_team=cloud.vercel_team,
            checkly_account_id=secret["checklyAccountId"],
            checkly_api_key=secret["checklyApiKey"],
        )
    )
    return secret, providers


def smoke_env(secret: dict[str, pulumi.Output[str]]) -> dict[str, Any]:
    """Smoke's own secrets (a read token): never variables of the app."""
    return {env: secret[key] for key, env in SMOKE_SECRETS.items()}


def export_cloud(
    database: Any, cache: Any, storage: Any, secrets: Any, deploy: Any, smoke: dict[str, Any]
) -> dict[str, pulumi.Output[Any]]:
    """Export a cloud stack's contract: the outputs every cloud target has, and `smoke`'s env."""
    return export_contract(
        Target.CLOUD,
        database=database,
        cache=cache,
        storage=storage,
        secrets=secrets,
        deploy=deploy,
        extra={
            "supabase_url": database.api_url,
            "drill_source_url": database.admin_url,
            "redis_rest_url": cache.rest_url,
            "production_url": deploy.production_url,
            "vercel_project_id": deploy.project_id,
            "vercel_deployment_id": deploy.deployment_id,
            "smoke_env": smoke,
        },
    )
