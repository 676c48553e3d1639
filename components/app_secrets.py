"""The app's environment: the variables the Mentora app reads, as far as a stack provides them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

APP_ENV_NAMES: tuple[str, ...] = (
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
"""The environment the Next.js app is written against: the `.env` of the backend
infrastructure guide (its Phase 8; the guide lives outside this repo), in its order. Supabase
(URL, anon and service-role keys), Redis (TCP URL, REST token), Inngest, Sentry, the AI and Whop
keys, the S3 bucket and the app's own settings. A stack provides the subset it can: the local
stack has no Supabase API, no Inngest or Sentry cloud keys."""
EXTRA_ENV_NAMES: tuple[str, ...] = (
    "DATABASE_URL",
    "AWS_ENDPOINT_URL_S3",
    "REDIS_REST_URL",
    "UPSTASH_REDIS_REST_URL",
    "UPSTASH_REDIS_REST_TOKEN",
    "MENTORA_CONFIG_FINGERPRINT",
    "INNGEST_DEV",
    "INNGEST_BASE_URL",
    "SENTRY_API_URL",
    "SENTRY_ORG",
    "SENTRY_PROJECT",
    "INNGEST_ENV",
    "SENTRY_ENVIRONMENT",
    "AWS_S3_PREFIX",
)
"""Provided beside `APP_ENV_NAMES`: `DATABASE_URL` where the app talks to Postgres directly,
`AWS_ENDPOINT_URL_S3` for an S3 store other than AWS (the AWS SDKs read it themselves), and the
names `@upstash/redis` reads (`Redis.fromEnv()`: `UPSTASH_REDIS_REST_URL`, an https URL, and
`UPSTASH_REDIS_REST_TOKEN`) where the stack has an Upstash REST endpoint. `REDIS_URL` stays the
TCP URL (`redis://`/`rediss://`) for TCP clients such as ioredis or redis-py.
`INNGEST_DEV`/`INNGEST_BASE_URL` point the Inngest SDKs at a Dev Server (the local stack);
`SENTRY_API_URL`, `SENTRY_ORG` and `SENTRY_PROJECT` say where a test error can be looked up
(Bugsink locally, Sentry's API in the cloud; docs/app-contract.md).
Cloud review stacks (pr-<N>) add `INNGEST_ENV` (the pull request's branch: the Inngest SDKs send
to and sync with that branch environment), `SENTRY_ENVIRONMENT` (`pr-<N>`, read by the Sentry
SDKs) and `AWS_S3_PREFIX` (the only key prefix of the shared bucket their key may use).
`MENTORA_CONFIG_FINGERPRINT` is a digest of every other variable: the app reports it on its
health endpoint, so smoke can tell that the deployment it checks carries this update's env."""
# Names whose values are configuration, not secrets: plain (non-sensitive) where deployed.
PLAIN_ENV_NAMES: frozenset[str] = frozenset(
    {
        "NODE_ENV",
        "LOG_LEVEL",
        "AWS_REGION",
        "AWS_S3_BUCKET",
        "MENTORA_CONFIG_FINGERPRINT",
        "SENTRY_ORG",
        "SENTRY_PROJECT",
        "INNGEST_ENV",
        "SENTRY_ENVIRONMENT",
        "AWS_S3_PREFIX",
    }
)
FINGERPRINT_NAME = "MENTORA_CONFIG_FINGERPRINT"


def fingerprint(env: Mapping[str, str]) -> str:
    """A short digest of an environment (the fingerprint itself left out): it changes whenever
    any value does, and reveals none (sha256 over every value at once).

    >>> fingerprint({"A": "1"}) == fingerprint({"A": "1", FINGERPRINT_NAME: "old"})
    True
    """
    items = sorted((k, v) for k, v in env.items() if k != FINGERPRINT_NAME and v != "")
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


def is_sensitive(env_name: str) -> bool:
    """Whether a deployed variable must be stored write-only (secret) by the deploy target.

    `NEXT_PUBLIC_*` values are inlined into the browser bundle, so they are public by definition.

    >>> is_sensitive("SUPABASE_SERVICE_ROLE_KEY"), is_sensitive("NEXT_PUBLIC_APP_URL")
    (True, False)
    """
    return not env_name.startswith("NEXT_PUBLIC_") and env_name not in PLAIN_ENV_NAMES


@dataclass(frozen=True, kw_only=True)
class AppSecretsArgs:
    """Values the app's environment is assembled from."""

    database_url: pulumi.Input[str]
    redis_url: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    storage_region: pulumi.Input[str]
    storage_access_key_id: pulumi.Input[str]
    storage_secret_access_key: pulumi.Input[str]
    log_level: str
    node_env: str
    storage_endpoint: pulumi.Input[str] | None = None
    """Only for an S3-compatible store other than AWS."""
    app_url: pulumi.Input[str] | None = None
    supabase_url: pulumi.Input[str] | None = None
    supabase_anon_key: pulumi.Input[str] | None = None
    supabase_service_role_key: pulumi.Input[str] | None = None
    redis_token: pulumi.Input[str] | None = None
    redis_rest_url: pulumi.Input[str] | None = None
    issued: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Externally issued keys (Inngest, Sentry, AI, Whop), by their `APP_ENV_NAMES` name."""
    services: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Where the app's other services are (a job queue, an error tracker), by env name."""


class AppSecrets(pulumi.ComponentResource):
    """Owns the app's environment: the `APP_ENV_NAMES` (and extras) this stack provides.

    `variables` maps each provided name to its value (names known when the program runs, so a
    deploy target can declare one resource per variable); `env` is all of them as one secret.
    """

    variables: dict[str, pulumi.Input[str]]
    env: pulumi.Output[dict[str, str]]
    fingerprint: pulumi.Output[str]
    """`fingerprint(env)`: not a secret, exported and deployed as MENTORA_CONFIG_FINGERPRINT."""

    def __init__(
        self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:AppSecrets", name, None, opts)
        unknown = sorted(
            (set(args.issued) - set(APP_ENV_NAMES))
            | (set(args.services) - set(APP_ENV_NAMES) - set(EXTRA_ENV_NAMES))
        )
        if unknown:
            raise pulumi.RunError(
                f"app secrets: {unknown} are not env names the app reads (APP_ENV_NAMES)"
            )
        optional: dict[str, pulumi.Input[str] | None] = {
            "NEXT_PUBLIC_SUPABASE_URL": args.supabase_url,
            "NEXT_PUBLIC_SUPABASE_ANON_KEY": args.supabase_anon_key,
            "SUPABASE_SERVICE_ROLE_KEY": args.supabase_service_role_key,
            "REDIS_TOKEN": args.redis_token,
            "REDIS_REST_URL": args.redis_rest_url,
            # @upstash/redis reads these two (Redis.fromEnv) and refuses a non-https URL.
            "UPSTASH_REDIS_REST_URL": args.redis_rest_url,
            "UPSTASH_REDIS_REST_TOKEN": args.redis_token,
            "AWS_ENDPOINT_URL_S3": args.storage_endpoint,
            "NEXT_PUBLIC_APP_URL": args.app_url,
        }
        self.variables = {
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "AWS_ACCESS_KEY_ID": args.storage_access_key_id,
            "AWS_SECRET_ACCESS_KEY": args.storage_secret_access_key,
            "AWS_REGION": args.storage_region,
            "AWS_S3_BUCKET": args.bucket_name,
            "NODE_ENV": args.node_env,
            "LOG_LEVEL": args.log_level,
            **{key: value for key, value in optional.items() if value is not None},
            **args.issued,
            **args.services,
        }
        self.fingerprint = pulumi.Output.unsecret(
            pulumi.Output.all(**self.variables).apply(fingerprint)
        )
        self.variables[FINGERPRINT_NAME] = self.fingerprint
        self.env = pulumi.Output.secret(
            pulumi.Output.all(**self.variables).apply(
                lambda resolved: {k: v for k, v in sorted(resolved.items()) if v != ""}
            )
        )
        self.register_outputs({"env": self.env, "fingerprint": self.fingerprint})
