"""Wires a cloud review stack (`pr-<N>`, base `dev`): a pull request's own copy of the backend.

Its settings are dev's (copied by `mentora-infra review up`; no `Pulumi.pr-<N>.yaml` is written by
hand) plus `reviewBranch` and `appCommit` (the pull request's branch and head). What it shares
with dev is read from dev's outputs (a StackReference): the Supabase project it branches, the
Vercel project it deploys a preview of, the bucket it gets a prefix of. What it owns:

- a Supabase branch of dev's project (its own database, migrations replayed, then the PR's own);
- its own Upstash database (see README "Review stacks -> Cloud (base dev)" for why not an ACL
  user on dev's);
- an IAM user whose policy allows only the key prefix `pr-<N>/` of dev's bucket;
- the app's variables scoped to the PR's git branch on Vercel's preview target, and a preview
  deployment of that branch (the app URL of the stack);
- `INNGEST_ENV` = the branch (Inngest branch environments, with their own keys) and
  `SENTRY_ENVIRONMENT` = `pr-<N>`.

It exports the same outputs contract as dev, so smoke runs against it unchanged.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pulumi

from components.cloud.branch_database import SupabaseBranchDatabase, SupabaseBranchDatabaseArgs
from components.cloud.cache import UpstashCache, UpstashCacheArgs
from components.cloud.prefix_storage import S3PrefixStorage, S3PrefixStorageArgs
from components.cloud.preview_target import VercelPreviewTarget, VercelPreviewTargetArgs
from review.naming import base_stack_of
from stacks.app_env import app_secrets
from stacks.cloud import export_cloud, secrets_and_providers, smoke_env
from stacks.cloud_settings import ISSUED_SECRETS, REVIEW_SECRETS
from stacks.config import MIGRATIONS_DIR, StackConfig

# dev's outputs a review stack builds on (stacks/contract.py).
BASE_OUTPUTS = ("supabase_url", "vercel_project_id", "bucket_name")


def supabase_ref(api_url: str) -> str:
    """The project ref in a Supabase API URL (dev's `supabase_url` output).

    >>> supabase_ref("https://abcdefghijklmnopqrst.supabase.co")
    'abcdefghijklmnopqrst'
    """
    host = urlsplit(api_url).hostname or ""
    ref, _, domain = host.partition(".")
    if domain != "supabase.co" or not ref:
        raise pulumi.RunError(
            f"review: dev's output supabase_url is {api_url!r}, not https://<ref>.supabase.co; "
            "deploy dev first: pulumi up --stack dev"
        )
    return ref


def base_reference(stack: str) -> pulumi.StackReference:
    """The base stack (dev) of review stack `stack`, in this project and organization."""
    base = base_stack_of(stack, cloud=True)
    name = f"{pulumi.get_organization()}/{pulumi.get_project()}/{base}"
    return pulumi.StackReference(f"{stack}-base", stack_name=name)


def review_services(stack: str, branch: str, config: StackConfig) -> dict[str, str]:
    """The plain settings that point the app's services at the review stack's own share."""
    cloud = config.cloud
    assert cloud is not None
    services = {
        "INNGEST_ENV": branch,  # Inngest branch environments are named after the git branch
        "SENTRY_ENVIRONMENT": stack,  # `pr-<N>`: the Sentry SDKs read it
        "AWS_S3_PREFIX": f"{stack}/",
    }
    services.update(
        {
            k: v
            for k, v in (("SENTRY_ORG", cloud.sentry_org), ("SENTRY_PROJECT", cloud.sentry_project))
            if v
        }
    )
    return services


def build_review_cloud(config: StackConfig) -> dict[str, pulumi.Output[Any]]:
    """Declare the review stack's services; export and return the outputs contract."""
    cloud = config.cloud
    assert cloud is not None  # guaranteed by config validation for target=cloud
    stack, branch = config.stack, cloud.review_branch
    secret, providers = secrets_and_providers(config)
    base = base_reference(stack)
    database = SupabaseBranchDatabase(
        "database",
        SupabaseBranchDatabaseArgs(
            parent_ref=base.require_output("supabase_url").apply(lambda url: supabase_ref(url)),
            branch_name=stack,
            git_branch=branch,
            access_token=secret["supabaseAccessToken"],
            migrations_dir=str(MIGRATIONS_DIR),
        ),
    )
    cache = UpstashCache(
        "cache",
        UpstashCacheArgs(
            database_name=f"mentora-{stack}-cache",
            primary_region=config.region,
            provider=providers.upstash,
        ),
    )
    storage = S3PrefixStorage(
        "storage",
        S3PrefixStorageArgs(
            bucket_name=base.require_output("bucket_name"),
            prefix=f"{stack}/",
            region=config.region,
            app_user_name=f"mentora-{stack}-app",
            provider=providers.aws,
        ),
    )
    issued = {env: secret[key] for key, env in ISSUED_SECRETS.items()}
    issued.update({env: secret[key] for key, env in REVIEW_SECRETS.items()})
    secrets = app_secrets(
        config,
        database_url=database.url,
        redis_url=cache.url,
        storage=storage,
        supabase_url=database.api_url,
        supabase_anon_key=database.anon_key,
        supabase_service_role_key=database.service_role_key,
        redis_token=cache.rest_token,
        redis_rest_url=cache.rest_url,
        issued=issued,
        services=review_services(stack, branch, config),
    )
    deploy = VercelPreviewTarget(
        "app",
        VercelPreviewTargetArgs(
            project_id=base.require_output("vercel_project_id"),
            git_branch=branch,
            head=cloud.app_commit,
            variables=secrets.variables,
            fingerprint=secrets.fingerprint,
            provider=providers.vercel,
        ),
    )
    # A protected preview answers smoke only with the bypass secret.
    smoke = {**smoke_env(secret), "VERCEL_AUTOMATION_BYPASS_SECRET": deploy.bypass_secret}
    return export_cloud(database, cache, storage, secrets, deploy, smoke)
