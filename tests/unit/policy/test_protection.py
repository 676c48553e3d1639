"""On prod, stateful resources are protected; dev and local are free to recreate them."""

from __future__ import annotations

import pytest

from policy.protection import is_stateful, validate_protection

SUPABASE = "pulumi-python:dynamic:Resource"
REDIS = "upstash:index/redisDatabase:RedisDatabase"


@pytest.mark.parametrize(
    ("resource_type", "name", "props"),
    [
        (SUPABASE, "mentora-prod-supabase", {"name": "mentora"}),
        (SUPABASE, "db", {"organization_slug": "mentora-org"}),
        (REDIS, "mentora-prod-cache", {"tls": True}),
        ("aws:s3/bucket:Bucket", "mentora-prod-videos", {}),
        ("aws:s3/bucketV2:BucketV2", "mentora-prod-videos", {}),
    ],
)
def test_unprotected_prod_database_is_rejected_and_dev_passes(
    resource_type: str, name: str, props: dict[str, object]
) -> None:
    [message] = validate_protection(resource_type, name, props, stack="prod", protect=False)
    assert f"'{name}'" in message and "stack 'prod'" in message
    assert "protect=True" in message
    assert validate_protection(resource_type, name, props, stack="dev", protect=False) == []
    assert validate_protection(resource_type, name, props, stack="local", protect=False) == []


def test_protected_prod_database_passes() -> None:
    assert (
        validate_protection(SUPABASE, "mentora-prod-supabase", {}, stack="prod", protect=True) == []
    )


def test_retain_on_delete_is_checked_when_the_engine_reports_it() -> None:
    for retain in (None, True):
        assert (
            validate_protection(
                REDIS, "cache", {}, stack="prod", protect=True, retain_on_delete=retain
            )
            == []
        )
    [message] = validate_protection(
        REDIS, "cache", {}, stack="prod", protect=True, retain_on_delete=False
    )
    assert "retain_on_delete=False" in message and "protect=False" not in message


def test_unknown_stack_fails_closed() -> None:
    [message] = validate_protection(REDIS, "cache", {}, stack="", protect=False)
    assert "treated as prod" in message


def test_stateless_resources_are_not_required_to_be_protected() -> None:
    assert not is_stateful(SUPABASE, "mentora-prod-migrations", {"admin_url": "x"})
    assert not is_stateful("aws:iam/user:User", "app-supabase", {})
    assert is_stateful("pulumi-python:dynamic/supabase:Project", "p", {"organizationSlug": "o"})
    assert validate_protection(SUPABASE, "migrations", {}, stack="prod", protect=False) == []
