"""S3 buckets are never public: access blocks fully on, no public ACL, no anonymous read policy."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any, Final

from policy.props import UNKNOWN, Props, StackResource, items, prop, short_type

BUCKET_TYPES: Final = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
ACCESS_BLOCK_TYPE: Final = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACL_TYPES: Final = frozenset({"aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl"})
POLICY_TYPE: Final = "aws:s3/bucketPolicy:BucketPolicy"

ACCESS_BLOCK_FLAGS: Final = (
    ("blockPublicAcls", "block_public_acls"),
    ("blockPublicPolicy", "block_public_policy"),
    ("ignorePublicAcls", "ignore_public_acls"),
    ("restrictPublicBuckets", "restrict_public_buckets"),
)
# authenticated-read grants every AWS account on earth: public in all but name.
PUBLIC_CANNED_ACLS: Final = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_GRANTEE_URIS: Final = frozenset(
    {
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    }
)
PUBLIC_READ_ACTIONS: Final = ("s3:GetObject", "s3:ListBucket")


def validate_public_access_block(resource_type: str, name: str, props: Props) -> list[str]:
    """Enforce that a BucketPublicAccessBlock sets all four block/ignore/restrict flags to true."""
    if resource_type != ACCESS_BLOCK_TYPE:
        return []
    off = [
        snake
        for camel, snake in ACCESS_BLOCK_FLAGS
        if prop(props, camel) is not UNKNOWN and prop(props, camel) is not True
    ]
    if not off:
        return []
    return [
        f"BucketPublicAccessBlock '{name}' leaves the bucket open to public access: "
        f"{', '.join(off)} not true. Fix: set {', '.join(f'{f}=True' for f in off)}."
    ]


def _public_grants(props: Props) -> list[str]:
    uris: list[str] = []
    for grant in items(prop(props, "accessControlPolicy", "grants")):
        uri = prop(grant, "grantee", "uri")
        if isinstance(uri, str) and uri in PUBLIC_GRANTEE_URIS:
            uris.append(uri.rsplit("/", 1)[-1])
    return uris


def validate_bucket_acl(resource_type: str, name: str, props: Props) -> list[str]:
    """Enforce that no bucket ACL (BucketAcl, BucketAclV2, inline Bucket acl) is public."""
    if resource_type not in ACL_TYPES and resource_type not in BUCKET_TYPES:
        return []
    kind = short_type(resource_type)
    violations: list[str] = []
    acl = prop(props, "acl")
    if isinstance(acl, str) and acl in PUBLIC_CANNED_ACLS:
        violations.append(
            f"{kind} '{name}' uses the public canned ACL '{acl}'. Fix: use acl='private' "
            "(or drop the ACL and set BucketOwnershipControls to BucketOwnerEnforced)."
        )
    groups = _public_grants(props)
    if groups:
        violations.append(
            f"{kind} '{name}' grants access to {', '.join(groups)}. Fix: remove those grants "
            "from access_control_policy; share objects through presigned URLs instead."
        )
    return violations


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    return list(items(value))


def _parse_document(document: Any) -> Mapping[str, Any] | None:
    if isinstance(document, str):
        try:
            parsed = json.loads(document)
        except ValueError:
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return document if isinstance(document, Mapping) else None


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in _as_list(prop(principal, key)) for key in list(principal))
    return False


def _actions_matched(patterns: list[Any]) -> list[str]:
    return [
        action
        for action in PUBLIC_READ_ACTIONS
        if any(isinstance(p, str) and fnmatchcase(action.lower(), p.lower()) for p in patterns)
    ]


def public_read_statements(document: Any) -> list[str]:
    """Return the public read actions an IAM policy document allows to anyone without condition.

    >>> public_read_statements('{"Statement": [{"Effect": "Allow", "Principal": "*", '
    ...                        '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}')
    ['s3:GetObject']
    """
    parsed = _parse_document(document)
    if parsed is None:
        return []
    found: list[str] = []
    for statement in _as_list(prop(parsed, "Statement")):
        if not isinstance(statement, Mapping) or prop(statement, "Effect") != "Allow":
            continue
        if not _is_everyone(prop(statement, "Principal")) or prop(statement, "Condition"):
            continue
        if prop(statement, "NotAction") is not None:
            excluded = _actions_matched(_as_list(prop(statement, "NotAction")))
            allowed = [a for a in PUBLIC_READ_ACTIONS if a not in excluded]
        else:
            allowed = _actions_matched(_as_list(prop(statement, "Action")))
        found.extend(a for a in allowed if a not in found)
    return found


def validate_bucket_policy(resource_type: str, name: str, props: Props) -> list[str]:
    """Enforce that no bucket policy lets Principal "*" GetObject/ListBucket without a Condition."""
    if resource_type != POLICY_TYPE and resource_type not in BUCKET_TYPES:
        return []
    actions = public_read_statements(prop(props, "policy"))
    if not actions:
        return []
    return [
        f"{short_type(resource_type)} '{name}' allows anyone (Principal \"*\") "
        f"{', '.join(actions)} without a Condition. Fix: grant these actions to the app's IAM "
        "principal only, or add a Condition (e.g. aws:SourceVpce / aws:PrincipalOrgID)."
    ]


def _bucket_ids(bucket: StackResource) -> set[str]:
    values = (prop(bucket.props, "bucket"), prop(bucket.props, "id"))
    return {v for v in values if isinstance(v, str) and v}


def targets_bucket(resource: StackResource, bucket: StackResource) -> bool:
    """Whether `resource` (an access block, encryption config, ...) configures `bucket`.

    The `bucket` input usually is `bucket.id`, unknown during a preview, so the property
    dependency recorded by the SDK is checked first, then the value.
    """
    deps: Sequence[Any] = resource.property_dependencies.get("bucket", ())
    if any(getattr(dep, "urn", None) == bucket.urn for dep in deps):
        return True
    target = prop(resource.props, "bucket")
    return isinstance(target, str) and target in _bucket_ids(bucket)


def check_buckets_have_access_block(resources: Sequence[StackResource]) -> list[tuple[str, str]]:
    """Enforce that every S3 bucket has a BucketPublicAccessBlock; returns (message, urn) pairs."""
    blocks = [r for r in resources if r.resource_type == ACCESS_BLOCK_TYPE]
    return [
        (
            f"S3 bucket '{bucket.name}' has no BucketPublicAccessBlock. Fix: add "
            f'aws.s3.BucketPublicAccessBlock("{bucket.name}-public-access", '
            "bucket=<bucket>.id, block_public_acls=True, block_public_policy=True, "
            "ignore_public_acls=True, restrict_public_buckets=True).",
            bucket.urn,
        )
        for bucket in resources
        if bucket.resource_type in BUCKET_TYPES
        and not any(targets_bucket(block, bucket) for block in blocks)
    ]
