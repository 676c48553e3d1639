"""The app's environment: the guide's Phase 8 variables this stack provides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

# The guide's Phase 8 `.env` names, in its order. A stack provides the subset it can.
PHASE8_ENV_NAMES: tuple[str, ...] = (
    "NEXT_PUBLIC_SUPABASE_URL",
    "NEXT_PUBLIC_SUPABASE_ANON_KEY",
    "SUPABASE_SERVICE_ROLE_KEY",
    "REDIS_URL",
    "REDIS_TOKEN",
    "INNGEST_EVENT_KEY",
    "INNGEST_SIGNING_KEY",
    "SENTRY_DSN",
    "SENTRY_AUTH_TOKEN",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "WHOP_API_KEY",
    "WHOP_CLIENT_ID",
    "WHOP_CLIENT_SECRET",
    "WHOP_WEBHOOK_SECRET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_S3_BUCKET",
    "NEXT_PUBLIC_APP_URL",
    "NODE_ENV",
    "LOG_LEVEL",
)
# Provided beside the guide's names where the stack has no Supabase API in front of Postgres, or
# an S3 endpoint other than AWS (the AWS SDKs read AWS_ENDPOINT_URL_S3 themselves).
EXTRA_ENV_NAMES: tuple[str, ...] = ("DATABASE_URL", "AWS_ENDPOINT_URL_S3")


@dataclass(frozen=True, kw_only=True)
class AppSecretsArgs:
    """Values the app's environment is assembled from."""

    database_url: pulumi.Input[str]
    redis_url: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    storage_region: pulumi.Input[str]
    storage_endpoint: pulumi.Input[str]
    storage_access_key_id: pulumi.Input[str]
    storage_secret_access_key: pulumi.Input[str]
    log_level: str
    node_env: str
    app_url: pulumi.Input[str] | None = None
    issued: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Externally issued keys (Inngest, Sentry, AI, Whop), by Phase 8 name."""


class AppSecrets(pulumi.ComponentResource):
    """Owns the app's environment map: the Phase 8 names this stack provides (one secret)."""

    env: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:AppSecrets", name, None, opts)
        unknown = sorted(set(args.issued) - set(PHASE8_ENV_NAMES))
        if unknown:
            raise pulumi.RunError(f"app secrets: {unknown} are not Phase 8 env names")
        values: dict[str, pulumi.Input[str]] = {
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "AWS_ACCESS_KEY_ID": args.storage_access_key_id,
            "AWS_SECRET_ACCESS_KEY": args.storage_secret_access_key,
            "AWS_REGION": args.storage_region,
            "AWS_S3_BUCKET": args.bucket_name,
            "AWS_ENDPOINT_URL_S3": args.storage_endpoint,
            "NODE_ENV": args.node_env,
            "LOG_LEVEL": args.log_level,
            **args.issued,
        }
        if args.app_url is not None:
            values["NEXT_PUBLIC_APP_URL"] = args.app_url
        self.env = pulumi.Output.secret(
            pulumi.Output.all(**values).apply(
                lambda resolved: {k: v for k, v in sorted(resolved.items()) if v != ""}
            )
        )
        self.register_outputs({"env": self.env})
