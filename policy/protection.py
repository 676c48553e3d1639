"""On prod, stateful resources (bucket, Redis, Supabase project) cannot be deleted by mistake."""

from __future__ import annotations

from typing import Final

from policy.props import Props, has_key, short_type
from policy.stackinfo import is_prod

STATEFUL_TYPES: Final = frozenset(
    {
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "upstash:index/redisDatabase:RedisDatabase",
    }
)
# pulumi.dynamic resources: `pulumi-python:dynamic:Resource`, or
# `pulumi-python:dynamic/<module>:<Name>` for subclasses that set their own type name.
DYNAMIC_TYPE_PREFIX: Final = "pulumi-python:dynamic"
SUPABASE_NAME_SUFFIX: Final = "-supabase"
SUPABASE_MARKER_PROPS: Final = ("organization_slug", "organizationSlug")


def is_stateful(resource_type: str, name: str, props: Props) -> bool:
    """Whether a resource holds data that a delete would lose.

    >>> is_stateful("pulumi-python:dynamic:Resource", "mentora-prod-supabase", {})
    True
    """
    if resource_type in STATEFUL_TYPES:
        return True
    if resource_type.startswith(DYNAMIC_TYPE_PREFIX):
        return name.endswith(SUPABASE_NAME_SUFFIX) or any(
            has_key(props, key) for key in SUPABASE_MARKER_PROPS
        )
    return False


def _describe(resource_type: str, name: str) -> str:
    if resource_type.startswith(DYNAMIC_TYPE_PREFIX):
        return f"Supabase project '{name}'"
    return f"{short_type(resource_type)} '{name}'"


def validate_protection(
    resource_type: str,
    name: str,
    props: Props,
    *,
    stack: str,
    protect: bool,
    retain_on_delete: bool | None = None,
) -> list[str]:
    """Enforce `protect=True` (and `retain_on_delete=True` where the engine exposes it) on the
    stateful resources of a prod stack.

    `retain_on_delete` is `None` when the policy SDK does not report it (pulumi_policy 1.21 does
    not): then only `protect` is checked. An unknown stack (`""`) counts as prod.
    """
    if not is_prod(stack) or not is_stateful(resource_type, name, props):
        return []
    missing = [
        option
        for option, value in (("protect", protect), ("retain_on_delete", retain_on_delete))
        if value is False
    ]
    if not missing:
        return []
    where = f"stack '{stack}'" if stack else "an unidentified stack (treated as prod)"
    return [
        f"{_describe(resource_type, name)} on {where} holds data but has "
        f"{' and '.join(f'{m}=False' for m in missing)}. Fix: pass "
        "opts=pulumi.ResourceOptions(protect=True, retain_on_delete=True) for prod "
        "(`pulumi state unprotect` first if it really must go)."
    ]
