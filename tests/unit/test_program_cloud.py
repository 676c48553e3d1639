"""The dev and prod programs under Pulumi mocks: services, hardening, env coverage, secrecy."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.app_secrets import APP_ENV_NAMES, is_sensitive
from components.cloud.providers import PLUGIN_VERSIONS
from stacks.config import PROJECT_ROOT
from stacks.contract import BY_NAME, Target
from tests.unit.cloud_program import (
    FAKE_SECRETS,
    CloudMocks,
    Declared,
    all_registered,
    cloud_config,
    options_of,
    record_options,
    start_mocks,
    unwrap,
)

STATEFUL = {
    ("pulumi-python:dynamic:Resource", "database-project"),
    ("upstash:index/redisDatabase:RedisDatabase", "cache-database"),
    ("aws:s3/bucket:Bucket", "storage-bucket"),
}
ENV_VAR = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"


def run_program(
    stack: str, check: Callable[[CloudMocks, dict[str, Any]], None], **overrides: str
) -> Any:
    """Build the `stack` program (settings `overrides` applied) under mocks; call `check` once
    every output has resolved."""
    mocks = start_mocks(stack)
    record_options(mocks)
    from stacks.cloud import build_cloud

    contract = build_cloud(cloud_config(stack, **overrides))
    names = list(contract)
    return pulumi.Output.all(all_registered(mocks), *contract.values()).apply(
        lambda values: check(mocks, dict(zip(names, values[1:], strict=True)))
    )


def by_name(mocks: CloudMocks) -> dict[str, Declared]:
    return {d.name: d for d in mocks.declared}


def env_vars(mocks: CloudMocks) -> dict[str, Declared]:
    return {d.inputs["key"]: d for d in mocks.declared if d.typ == ENV_VAR}


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_every_service_is_declared_with_its_provider(stack: str) -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        types = {(d.typ, d.name) for d in mocks.declared}
        for token in (
            "SupabaseDatabase",
            "UpstashCache",
            "S3Storage",
            "AppSecrets",
            "VercelDeployTarget",
        ):
            assert any(t == f"mentora:infra:{token}" for t, _ in types), token
        assert types >= STATEFUL
        for typ in (
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
            "aws:iam/userPolicy:UserPolicy",
            "aws:iam/accessKey:AccessKey",
            "vercel:index/project:Project",
            "random:index/randomPassword:RandomPassword",
        ):
            assert any(t == typ for t, _ in types), typ
        assert ("pulumi-python:dynamic:Resource", "database-migrations") in types
        # Every cloud resource uses an explicit provider, never the ambient default one.
        for d in mocks.declared:
            if d.typ.split(":")[0] in ("aws", "checkly", "upstash", "vercel", "random"):
                opts, _ = options_of(mocks, d.name)
                assert opts.provider is not None or opts.parent is not None, d.name

    return run_program(stack, check)


def test_pinned_plugin_versions_match_the_sdk_pins() -> None:
    pins = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    packages = {
        "aws": "pulumi-aws",
        "checkly": "pulumi-checkly",
        "random": "pulumi-random",
        "upstash": "upstash-pulumi",
        "vercel": "pulumiverse-vercel",
    }
    for plugin, package in packages.items():
        assert f"{package}=={PLUGIN_VERSIONS[plugin]}" in pins


@pulumi.runtime.test
def test_explicit_providers_pin_the_sdk_versions() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        for provider in ("aws", "checkly", "random", "upstash", "vercel"):
            opts, _ = options_of(mocks, provider)
            assert opts.version == PLUGIN_VERSIONS[provider]
        assert by_name(mocks)["aws"].inputs["region"] == "us-east-1"

    return run_program("prod", check)


@pulumi.runtime.test
def test_prod_is_hardened() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        for _, name in STATEFUL:
            opts, _ = options_of(mocks, name)
            assert opts.protect is True and opts.retain_on_delete is True, name
            assert opts.aliases, name
        declared = by_name(mocks)
        assert declared["storage-bucket"].inputs["forceDestroy"] is False
        versioning = declared["storage-versioning"].inputs["versioningConfiguration"]
        assert versioning == {"status": "Enabled"}
        rules = {r["id"] for r in declared["storage-lifecycle"].inputs["rules"]}
        assert rules == {"abort-incomplete-uploads", "expire-old-versions"}
        project = declared["database-project"].inputs
        assert (project["pitr_days"], project["ssl_enforced"]) == (7, True)
        assert project["instance_size"] == "small"

    return run_program("prod", check)


@pulumi.runtime.test
def test_dev_is_disposable_but_still_private_and_encrypted() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        for _, name in STATEFUL:
            opts, _ = options_of(mocks, name)
            assert not opts.protect and not opts.retain_on_delete, name
        declared = by_name(mocks)
        assert "storage-versioning" not in declared
        assert declared["storage-bucket"].inputs["forceDestroy"] is True
        block = declared["storage-public-access-block"].inputs
        assert all(
            block[k]
            for k in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )
        assert declared["database-project"].inputs["ssl_enforced"] is True

    return run_program("dev", check)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_the_app_logs_in_through_its_login_as_postgres_until_a_rotation(stack: str) -> Any:
    """The app's DATABASE_URL goes through the `AppCredential` `rotate` rewrites; never rotated,
    it is byte for byte the pooler URL the project reports (an upgrade changes no variable)."""

    def check(mocks: CloudMocks, outputs: dict[str, Any]) -> None:
        login = by_name(mocks)["database-app-login"].inputs
        assert login["name"] == "postgres"
        assert outputs["database_url"] == (
            "postgresql://postgres.fakeref:fakeDbPassword0123456789@"
            "aws-0-us-east-1.pooler.supabase.com:6543/postgres?sslmode=require"
        )

    return run_program(stack, check)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_cache_is_global_tls_and_next_to_the_database(stack: str) -> Any:
    def check(mocks: CloudMocks, outputs: dict[str, Any]) -> None:
        cache = by_name(mocks)["cache-database"].inputs
        region = by_name(mocks)["database-project"].inputs["region"]
        assert (cache["region"], cache["primaryRegion"], cache["tls"]) == ("global", region, True)
        # The app logs in through its AppCredential (what `rotate` rewrites), `default` at first.
        assert by_name(mocks)["cache-app-login"].inputs["name"] == "default"
        assert outputs["redis_url"] == (
            "rediss://default:fake-upstash-password@fake-cache.upstash.io:6379"
        )

    return run_program(stack, check)


# Each stack owns a Vercel project whose domain serves its production deployment ("a domain
# without git_branch serves production deployments": shared/notes/facts.md, Vercel); dev's
# variables also reach pull-request previews. Never `development` (sensitive values refused).
@pytest.mark.parametrize(
    ("stack", "targets"), [("dev", ["production", "preview"]), ("prod", ["production"])]
)
@pulumi.runtime.test
def test_every_phase8_variable_reaches_the_right_targets(stack: str, targets: list[str]) -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        variables = env_vars(mocks)
        assert set(APP_ENV_NAMES) <= set(variables)
        for key, declared in variables.items():
            assert declared.inputs["targets"] == targets, key
            assert declared.inputs["sensitive"] is is_sensitive(key), key
        app_url = cloud_config(stack).cloud.app_url  # type: ignore[union-attr]
        assert unwrap(variables["NEXT_PUBLIC_APP_URL"].inputs["value"]) == app_url
        assert (
            unwrap(variables["INNGEST_EVENT_KEY"].inputs["value"])
            == FAKE_SECRETS["inngestEventKey"]
        )
        assert unwrap(variables["REDIS_URL"].inputs["value"]).startswith("rediss://")
        # @upstash/redis (Redis.fromEnv) reads these and throws on a non-https URL.
        rest_url = unwrap(variables["UPSTASH_REDIS_REST_URL"].inputs["value"])
        assert rest_url == "https://fake-cache.upstash.io"
        rest_token = unwrap(variables["UPSTASH_REDIS_REST_TOKEN"].inputs["value"])
        assert rest_token == "fake-upstash-rest-token"
        # Where smoke looks its test error up (docs/app-contract.md, errors).
        assert unwrap(variables["SENTRY_ORG"].inputs["value"]) == "mentora"
        assert unwrap(variables["SENTRY_PROJECT"].inputs["value"]) == "mentora-app"

    return run_program(stack, check)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_every_deployed_value_is_a_secret_in_the_state(stack: str) -> Any:
    mocks = start_mocks(stack)
    record_options(mocks)
    from stacks.cloud import build_cloud

    build_cloud(cloud_config(stack))
    keys = sorted(name for name in mocks.pending if name.startswith("app-env-"))  # type: ignore[attr-defined]
    values = [options_of(mocks, name)[1]["value"] for name in keys]
    flags = [pulumi.Output.from_input(v.is_secret()) for v in values]
    secrecy = pulumi.Output.all(all_registered(mocks), *flags).apply(lambda done: done[1:])

    def check(flags: list[bool]) -> None:
        by_key = {d.name: d.inputs["key"] for d in mocks.declared if d.typ == ENV_VAR}
        secret = {by_key[name]: flag for name, flag in zip(keys, flags, strict=True)}
        # pulumiverse-vercel stores every value encrypted, public ones included.
        assert secret == dict.fromkeys(secret, True) and len(secret) >= len(APP_ENV_NAMES)

    return secrecy.apply(check)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_outputs_contract_is_complete_and_secret_where_it_must_be(stack: str) -> Any:
    mocks = start_mocks(stack)
    record_options(mocks)
    from stacks.cloud import build_cloud

    contract = build_cloud(cloud_config(stack))
    # Exactly the contract's outputs of a cloud target (stacks/contract.py), nothing else.
    assert set(contract) == {s.name for s in BY_NAME.values() if Target.CLOUD in s.targets}
    names = sorted(contract)
    # Secrecy flags can resolve before the last resource is registered: wait for all of them.
    secrecy = pulumi.Output.all(
        all_registered(mocks),
        *[pulumi.Output.from_input(contract[name].is_secret()) for name in names],
    ).apply(lambda done: done[1:])

    def check(flags: list[bool]) -> None:
        assert dict(zip(names, flags, strict=True)) == {n: BY_NAME[n].secret for n in names}
        assert len(mocks.declared) > 30

    return secrecy.apply(check)


@pulumi.runtime.test
def test_app_principal_may_only_touch_its_bucket() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        policy = json.loads(by_name(mocks)["storage-app-policy"].inputs["policy"])
        resources = {r for s in policy["Statement"] for r in [s["Resource"]]}
        assert resources == {"arn:aws:s3:::fake-bucket", "arn:aws:s3:::fake-bucket/*"}
        actions = {a for s in policy["Statement"] for a in s["Action"]}
        assert "s3:*" not in actions and all(a.startswith("s3:") for a in actions)
        assert all(s["Effect"] == "Allow" for s in policy["Statement"])
        cors = by_name(mocks)["storage-cors"].inputs["corsRules"][0]
        assert cors["allowedOrigins"] == [
            "https://mentora.app",
            "https://www.mentora.app",
        ]

    return run_program("prod", check)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_up_makes_a_production_deployment_carrying_the_current_variables(stack: str) -> Any:
    # Vercel applies env vars to new deployments only (facts.md, Vercel); in
    # vercel/terraform-provider-vercel vercel/resource_deployment.go every attribute of a
    # Deployment (meta, ref, production, environment, ...) RequiresReplace: a changed fingerprint
    # in `meta` is a new deployment.
    def check(mocks: CloudMocks, outputs: dict[str, Any]) -> None:
        (deployment,) = [d for d in mocks.declared if d.typ == "vercel:index/deployment:Deployment"]
        assert deployment.inputs["production"] is True
        assert deployment.inputs["ref"] == cloud_config(stack).cloud.git_production_branch  # type: ignore[union-attr]
        fingerprint = deployment.inputs["meta"]["mentora_config_fingerprint"]
        variables = env_vars(mocks)
        deployed = unwrap(variables["MENTORA_CONFIG_FINGERPRINT"].inputs["value"])
        assert fingerprint == deployed and len(fingerprint) == 16
        # The deployment is made after every variable (depends_on), so it carries them all.
        options, _ = options_of(mocks, deployment.name)
        assert {r._name for r in options.depends_on} >= set(  # type: ignore[union-attr]
            d.name for d in mocks.declared if d.typ == ENV_VAR
        )

    return run_program(stack, check)


def test_a_sensitive_variable_never_targets_development() -> None:
    from components.cloud.deploy_target import targets_of

    # facts.md (Vercel): sensitive variables are refused on the Development target.
    both = ["production", "preview", "development"]
    assert targets_of("SUPABASE_SERVICE_ROLE_KEY", both) == ["production", "preview"]
    assert targets_of("NEXT_PUBLIC_APP_URL", both) == both


def test_the_fingerprint_changes_with_any_value_and_hides_them() -> None:
    from components.app_secrets import fingerprint

    env = {"DATABASE_URL": "postgresql://u:secret@h/d", "LOG_LEVEL": "info"}
    assert fingerprint(env) != fingerprint({**env, "LOG_LEVEL": "debug"})
    assert "secret" not in fingerprint(env) and len(fingerprint(env)) == 16


def test_missing_plugins_are_named_from_the_clis_list() -> None:
    from components.cloud.providers import PLUGIN_VERSIONS
    from stacks.plugins import missing_plugins

    # `pulumi plugin ls --json` lists {name, kind, version} per plugin (pulumi/pulumi
    # pkg/cmd/pulumi/plugin/plugin_ls.go, pluginInfoJSON).
    installed = [
        {"name": "aws", "kind": "resource", "version": "7.51.1"},
        {"name": "random", "kind": "resource", "version": "4.20.0"},
        {"name": "python", "kind": "language", "version": "3.274.1"},
    ]
    assert missing_plugins(PLUGIN_VERSIONS, installed) == [
        "checkly 2.14.0",
        "random 4.21.4",
        "upstash 0.5.0",
        "vercel 5.21.1",
    ]
