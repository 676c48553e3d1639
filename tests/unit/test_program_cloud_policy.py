"""The dev and prod resource graphs pass every policy of the pack; a weakened graph does not.

The policy functions get each resource the way the engine would: its wire (camelCase) inputs with
secrets unwrapped, and its `protect` option.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions

from policy import cache, encryption, env_vars, monitoring, protection, storage
from tests.unit.cloud_program import (
    CloudMocks,
    all_registered,
    cloud_config,
    options_of,
    record_options,
    start_mocks,
    unwrap,
)


def policy_resources(mocks: CloudMocks) -> list[tuple[PolicyResource, bool]]:
    """(resource as the policy engine sees it, its protect flag) for every custom resource."""
    found = []
    for declared in mocks.declared:
        if declared.typ.startswith(("mentora:", "pulumi:providers:")):
            continue
        opts, _ = options_of(mocks, declared.name)
        protect = bool(opts.protect)
        urn = f"urn:pulumi:stack::mentora::{declared.typ}::{declared.name}"
        options = PolicyResourceOptions(
            protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None
        )
        resource = PolicyResource(
            declared.typ, unwrap(declared.inputs), urn, declared.name, options, None, None, [], {}
        )
        found.append((resource, protect))
    return found


def violations(mocks: CloudMocks, stack: str) -> list[str]:
    """Every message the pack's checks report for the recorded graph."""
    messages: list[str] = []
    resources = policy_resources(mocks)
    for r, protect in resources:
        args = (r.resource_type, r.name, r.props)
        messages += storage.validate_public_access_block(*args)
        messages += storage.validate_bucket_acl(*args)
        messages += storage.validate_bucket_policy(*args)
        messages += env_vars.validate_secret_env_var(*args)
        messages += env_vars.validate_public_env_var(*args)
        messages += cache.validate_redis_tls(*args)
        messages += cache.validate_redis_url_tls(*args, stack=stack)
        messages += protection.validate_protection(*args, stack=stack, protect=protect)
    stack_resources = [r for r, _ in resources]
    messages += [m for m, _ in storage.check_buckets_have_access_block(stack_resources)]
    messages += [m for m, _ in encryption.check_buckets_encrypted(stack_resources)]
    messages += [m for m, _ in monitoring.check_deployments_monitored(stack_resources)]
    return messages


def run(stack: str, overrides: dict[str, str] | None = None) -> tuple[CloudMocks, Any]:
    mocks = start_mocks(stack)
    record_options(mocks)
    from stacks.cloud import build_cloud

    build_cloud(cloud_config(stack, **(overrides or {})))
    return mocks, all_registered(mocks)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_committed_stacks_pass_every_policy(stack: str) -> Any:
    mocks, done = run(stack)

    def check(_: Any) -> None:
        assert len(policy_resources(mocks)) > 30
        assert violations(mocks, stack) == []

    return done.apply(check)


@pulumi.runtime.test
def test_a_cloud_review_stack_passes_every_policy() -> Any:
    # pr-<N> is not prod (its branch, cache and deployment are disposable: no protect), is cloud
    # (rediss:// only), declares no Vercel project (dev's is monitored; the review stack's gate is
    # smoke) and no bucket (its prefix of dev's bucket is private by dev's settings).
    from stacks.review_cloud import build_review_cloud
    from tests.unit.review_program import STACK, review_config, start_review_mocks

    mocks = start_review_mocks()
    record_options(mocks)
    build_review_cloud(review_config())

    def check(_: Any) -> None:
        assert len(policy_resources(mocks)) > 30
        assert violations(mocks, STACK) == []

    return all_registered(mocks).apply(check)


@pulumi.runtime.test
def test_a_graph_whose_health_check_is_dropped_or_weakened_is_rejected() -> Any:
    mocks, done = run("prod", {"monitorLocations": "us-east-1,eu-west-1"})

    def check(_: Any) -> None:
        graph = [r for r, _ in policy_resources(mocks)]
        assert monitoring.check_deployments_monitored(graph) == []
        without = [r for r in graph if r.resource_type != "checkly:index/check:Check"]
        [(message, _)] = monitoring.check_deployments_monitored(without)
        assert "not monitored (no Checkly check)" in message
        (health,) = [r for r in graph if r.resource_type == "checkly:index/check:Check"]
        health.props["locations"] = ["us-east-1"]
        [(message, _)] = monitoring.check_deployments_monitored(graph)
        assert "runs from 1 location(s)" in message

    return done.apply(check)


@pulumi.runtime.test
def test_a_prod_graph_built_unhardened_is_rejected() -> Any:
    # What prod would be if someone dropped the hardening: the policy names each stateful resource.
    mocks, done = run("dev")

    def check(_: Any) -> None:
        found = violations(mocks, "prod")
        assert len(found) == 3
        for name in ("database-project", "cache-database", "storage-bucket"):
            assert any(f"'{name}'" in message for message in found), name

    return done.apply(check)
