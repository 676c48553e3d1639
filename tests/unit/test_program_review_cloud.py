"""The cloud review program (`pr-42`, base dev) under Pulumi mocks: what it owns, what it takes from
dev, and every argument checked against the SDK that will send it.

Sources: pulumiverse_vercel 5.21.1 in .venv (`project_environment_variable.py` class
ProjectEnvironmentVariable: `git_branch`, `targets` of production | preview | development,
`sensitive` required; `deployment.py` class Deployment: `ref` "the branch or commit hash",
`production`, `delete_on_destroy`); upstash_pulumi 0.5.0 (`redis_database.py` class
RedisDatabase: `database_name`, `region`, `primary_region` "only works if region='global'",
`tls`); pulumi_aws 7.51.1 (`iam/user_policy.py` class UserPolicy: `user`, `policy`); Inngest's
docs (inngest.com/docs/reference/python/overview/env-vars: `INNGEST_ENV` names the branch
environment; inngest.com/docs/platform/environments: each environment has its own keys).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumiverse_vercel as vercel
import pytest
import upstash_pulumi as upstash

from components.app_secrets import APP_ENV_NAMES, is_sensitive
from components.cloud.prefix_storage import prefix_policy
from stacks.errors import ConfigError
from tests.unit.cloud_program import (
    FAKE_SECRETS,
    CloudMocks,
    Declared,
    all_registered,
    record_options,
    unwrap,
)
from tests.unit.review_program import (
    BRANCH,
    BYPASS,
    BYPASS_SECRET,
    DEV_OUTPUTS,
    DEV_REF,
    HEAD,
    STACK,
    review_config,
    start_review_mocks,
)

ENV_VAR = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
DEPLOYMENT = "vercel:index/deployment:Deployment"
DYNAMIC = "pulumi-python:dynamic:Resource"


def run_review(check: Callable[[CloudMocks, dict[str, Any]], None], **overrides: str) -> Any:
    mocks = start_review_mocks()
    record_options(mocks)
    from stacks.review_cloud import build_review_cloud

    contract = build_review_cloud(review_config(**overrides))
    names = list(contract)
    return pulumi.Output.all(all_registered(mocks), *contract.values()).apply(
        lambda values: check(mocks, dict(zip(names, values[1:], strict=True)))
    )


def by_name(mocks: CloudMocks) -> dict[str, Declared]:
    return {d.name: d for d in mocks.declared}


def env_vars(mocks: CloudMocks) -> dict[str, Declared]:
    return {d.inputs["key"]: d for d in mocks.declared if d.typ == ENV_VAR}


def sdk_params(cls: type) -> set[str]:
    """Keyword names the SDK resource's constructor accepts (its published arguments)."""
    args_cls = getattr(inspect.getmodule(cls), f"{cls.__name__}Args")
    return set(inspect.signature(args_cls.__init__).parameters) - {"__self__"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pulumi.runtime.test
def test_it_owns_a_branch_a_cache_a_prefix_key_and_a_preview_and_reuses_devs_projects() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        types = [d.typ for d in mocks.declared]
        # dev owns these; a review stack must never declare (and so never delete) them.
        for owned_by_dev in ("vercel:index/project:Project", "aws:s3/bucket:Bucket"):
            assert owned_by_dev not in types
        assert not any("organization_slug" in d.inputs for d in mocks.declared)  # no project
        assert "checkly:index/check:Check" not in types  # monitoring is dev's and prod's
        (reference,) = [d for d in mocks.declared if d.typ == "pulumi:pulumi:StackReference"]
        assert reference.inputs["name"] == "organization/mentora/dev"
        for token in (
            "SupabaseBranchDatabase",
            "UpstashCache",
            "S3PrefixStorage",
            "AppSecrets",
            "VercelPreviewTarget",
        ):
            assert f"mentora:infra:{token}" in types, token

    return run_review(check)


@pulumi.runtime.test
def test_the_supabase_branch_is_of_devs_project_named_after_the_stack() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        branch = by_name(mocks)["database-branch"]
        assert branch.typ == DYNAMIC
        assert unwrap(branch.inputs["parent_ref"]) == DEV_REF
        assert unwrap(branch.inputs["branch_name"]) == STACK
        assert unwrap(branch.inputs["git_branch"]) == BRANCH
        # The PR's own migrations run on the branch after Supabase replayed dev's.
        assert by_name(mocks)["database-migrations"].typ == DYNAMIC

    return run_review(check)


@pulumi.runtime.test
def test_its_upstash_database_is_its_own_global_tls_one() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        cache = by_name(mocks)["cache-database"]
        assert {camel(p) for p in sdk_params(upstash.RedisDatabase)} >= set(cache.inputs)
        assert cache.inputs["databaseName"] == f"mentora-{STACK}-cache"
        assert cache.inputs["region"] == "global"  # primary_region only works with global
        assert cache.inputs["primaryRegion"] == "us-east-1" and cache.inputs["tls"] is True

    return run_review(check)


@pulumi.runtime.test
def test_its_key_may_only_touch_its_prefix_of_devs_bucket() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        policy_resource = by_name(mocks)["storage-app-policy"]
        assert {camel(p) for p in sdk_params(aws.iam.UserPolicy)} >= set(policy_resource.inputs)
        policy = json.loads(policy_resource.inputs["policy"])
        bucket = f"arn:aws:s3:::{DEV_OUTPUTS['bucket_name']}"
        objects, listing = policy["Statement"]
        assert objects["Resource"] == f"{bucket}/{STACK}/*"
        assert listing["Resource"] == bucket
        assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{STACK}/", f"{STACK}/*"]}}
        assert all(s["Effect"] == "Allow" for s in policy["Statement"])
        assert by_name(mocks)["storage-app-user"].inputs["name"] == f"mentora-{STACK}-app"

    return run_review(check)


def test_a_prefix_policy_does_not_reach_a_longer_pr_number() -> None:
    # IAM matches `Resource` like a glob: pr-4/* must not match pr-42/...
    statement = json.loads(prefix_policy("b", "pr-4/"))["Statement"][0]
    assert fnmatchcase("arn:aws:s3:::b/pr-4/video.mp4", statement["Resource"])
    assert not fnmatchcase("arn:aws:s3:::b/pr-42/video.mp4", statement["Resource"])
    with pytest.raises(ValueError, match="pr-42/"):
        prefix_policy("b", "pr-4")


@pulumi.runtime.test
def test_every_variable_is_scoped_to_the_branch_on_preview_only() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        variables = env_vars(mocks)
        allowed = {camel(p) for p in sdk_params(vercel.ProjectEnvironmentVariable)}
        for key, declared in variables.items():
            assert allowed >= set(declared.inputs), key
            assert declared.inputs["gitBranch"] == BRANCH, key
            assert declared.inputs["targets"] == ["preview"], key
            assert declared.inputs["sensitive"] is is_sensitive(key), key
            assert declared.inputs["projectId"] == DEV_OUTPUTS["vercel_project_id"], key
        value = {k: unwrap(d.inputs["value"]) for k, d in variables.items()}
        assert value["INNGEST_ENV"] == BRANCH
        assert value["SENTRY_ENVIRONMENT"] == STACK
        assert value["AWS_S3_PREFIX"] == f"{STACK}/"
        assert value["AWS_S3_BUCKET"] == DEV_OUTPUTS["bucket_name"]
        # Inngest branch environments have their own keys, not dev's.
        assert value["INNGEST_EVENT_KEY"] == FAKE_SECRETS["inngestBranchEventKey"]
        assert value["INNGEST_SIGNING_KEY"] == FAKE_SECRETS["inngestBranchSigningKey"]
        assert value["NEXT_PUBLIC_SUPABASE_URL"] == "https://fakeref.supabase.co"  # the branch's
        # Every app variable but the app's own URL is overridden for the branch, so none of dev's
        # preview values reaches the review deployment (see README for NEXT_PUBLIC_APP_URL).
        assert set(APP_ENV_NAMES) - set(variables) == {"NEXT_PUBLIC_APP_URL"}

    return run_review(check)


@pulumi.runtime.test
def test_the_app_url_is_a_preview_deployment_of_the_prs_branch() -> Any:
    def check(mocks: CloudMocks, outputs: dict[str, Any]) -> None:
        (deployment,) = [d for d in mocks.declared if d.typ == DEPLOYMENT]
        assert {camel(p) for p in sdk_params(vercel.Deployment)} >= set(deployment.inputs)
        assert deployment.inputs["production"] is False  # never promoted to dev's domains
        assert deployment.inputs["ref"] == BRANCH
        assert deployment.inputs["deleteOnDestroy"] is True  # `review down` leaves nothing
        assert deployment.inputs["meta"]["mentora_app_commit"] == HEAD
        assert outputs["app_url"] == f"https://{deployment.name}.vercel.app"
        assert outputs["production_url"] == outputs["app_url"]
        assert outputs["vercel_project_id"] == DEV_OUTPUTS["vercel_project_id"]
        # Its own protection bypass on dev's project, whose secret only smoke reads.
        (bypass,) = [d for d in mocks.declared if d.typ == BYPASS]
        assert {camel(p) for p in sdk_params(vercel.ProjectProtectionBypass)} >= set(bypass.inputs)
        assert bypass.inputs["projectId"] == DEV_OUTPUTS["vercel_project_id"]
        assert "secret" not in bypass.inputs  # Vercel generates it
        assert outputs["smoke_env"]["VERCEL_AUTOMATION_BYPASS_SECRET"] == BYPASS_SECRET
        assert BYPASS_SECRET not in json.dumps(outputs["env"])  # never the app's

    return run_review(check)


def test_a_review_stack_without_its_branch_head_or_inngest_branch_keys_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        review_config(reviewBranch="", appCommit="")
    text = str(caught.value)
    assert "mentora:reviewBranch" in text and "mentora:appCommit" in text
    from stacks.cloud_settings import CLOUD_SECRETS
    from stacks.config import parse_stack_config
    from tests.unit.cloud_program import stack_file

    secrets = {k: v for k, v in FAKE_SECRETS.items() if k != "inngestBranchSigningKey"}
    raw = {**stack_file("dev"), "reviewBranch": BRANCH, "appCommit": HEAD}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(STACK, raw, secrets, dict.fromkeys(CLOUD_SECRETS, True))
    assert "pulumi config set --secret mentora:inngestBranchSigningKey <value> -s dev" in str(
        caught.value
    )
    # dev itself does not need them.
    parse_stack_config("dev", stack_file("dev"), secrets, dict.fromkeys(CLOUD_SECRETS, True))
