"""Buckets are never public: access block flags, ACLs, bucket policies, a block per bucket."""

from __future__ import annotations

import json
from collections.abc import Mapping

from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy.storage import (
    ACCESS_BLOCK_TYPE,
    POLICY_TYPE,
    check_buckets_have_access_block,
    public_read_statements,
    validate_bucket_acl,
    validate_bucket_policy,
    validate_public_access_block,
)
from tests.unit.policy.conftest import resource

ALL_ON = {
    "bucket": "mentora-videos",
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}


def test_access_block_with_all_flags_on_passes() -> None:
    assert validate_public_access_block(ACCESS_BLOCK_TYPE, "videos-pab", ALL_ON) == []


def test_public_bucket_access_block_false_is_rejected() -> None:
    props = {**ALL_ON, "blockPublicPolicy": False}
    del props["restrictPublicBuckets"]
    [message] = validate_public_access_block(ACCESS_BLOCK_TYPE, "videos-pab", props)
    assert "'videos-pab'" in message
    assert "block_public_policy=True" in message and "restrict_public_buckets=True" in message
    assert "block_public_acls" not in message


def test_access_block_flag_unknown_in_preview_is_not_judged() -> None:
    props = unknown_checking_proxy({**ALL_ON, "blockPublicAcls": UNKNOWN_BOOLEAN_VALUE})
    assert validate_public_access_block(ACCESS_BLOCK_TYPE, "videos-pab", props) == []


def test_other_types_are_ignored() -> None:
    assert validate_public_access_block("aws:s3/bucket:Bucket", "b", {}) == []
    assert validate_bucket_acl("aws:iam/user:User", "u", {"acl": "public-read"}) == []
    assert validate_bucket_policy("aws:iam/userPolicy:UserPolicy", "p", {"policy": "{}"}) == []


def test_public_canned_acls_are_rejected() -> None:
    for token in ("aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl"):
        for acl in ("public-read", "public-read-write"):
            [message] = validate_bucket_acl(token, "videos-acl", {"acl": acl})
            assert "'videos-acl'" in message and "acl='private'" in message
    assert validate_bucket_acl("aws:s3/bucket:Bucket", "videos", {"acl": "public-read"})


def test_private_acl_passes_and_all_users_grant_is_rejected() -> None:
    token = "aws:s3/bucketAclV2:BucketAclV2"
    assert validate_bucket_acl(token, "videos-acl", {"acl": "private"}) == []
    grants = {
        "grants": [
            {"grantee": {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}}
        ]
    }
    [message] = validate_bucket_acl(token, "videos-acl", {"accessControlPolicy": grants})
    assert "AllUsers" in message


def _policy(statement: Mapping[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_anonymous_get_object_policy_is_rejected() -> None:
    document = _policy(
        {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": "arn:*"}
    )
    [message] = validate_bucket_policy(POLICY_TYPE, "videos-policy", {"policy": document})
    assert "'videos-policy'" in message and "s3:GetObject" in message and "Fix:" in message


def test_wildcard_actions_and_aws_star_principal_count_as_public() -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:*"}
    assert public_read_statements(_policy(statement)) == ["s3:GetObject", "s3:ListBucket"]
    as_dict = {"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:List*"}}
    assert public_read_statements(as_dict) == ["s3:ListBucket"]


def test_scoped_or_conditioned_policies_pass() -> None:
    role = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/app"}, "Action": "s3:*"}
    conditioned = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
    }
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*"}
    put_only = {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject"}
    for statement in (role, conditioned, deny, put_only):
        assert validate_bucket_policy(POLICY_TYPE, "p", {"policy": _policy(statement)}) == []
    assert validate_bucket_policy(POLICY_TYPE, "p", {"policy": UNKNOWN_STRING_VALUE}) == []
    assert validate_bucket_policy(POLICY_TYPE, "p", {"policy": "not json"}) == []


def test_not_action_allow_to_everyone_is_public() -> None:
    statement = {"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteObject"}
    assert public_read_statements(_policy(statement)) == ["s3:GetObject", "s3:ListBucket"]


def test_every_bucket_needs_an_access_block() -> None:
    bucket = resource("aws:s3/bucket:Bucket", "videos", {"bucket": "mentora-videos"})
    legacy = resource("aws:s3/bucketV2:BucketV2", "legacy", {"bucket": "mentora-legacy"})
    by_dependency = resource(
        ACCESS_BLOCK_TYPE, "videos-pab", {"bucket": UNKNOWN_STRING_VALUE}, deps={"bucket": [bucket]}
    )
    violations = check_buckets_have_access_block([bucket, legacy, by_dependency])
    assert violations == [(violations[0][0], legacy.urn)]
    assert "'legacy'" in violations[0][0] and "BucketPublicAccessBlock(" in violations[0][0]

    by_value = resource(ACCESS_BLOCK_TYPE, "legacy-pab", {"bucket": "mentora-legacy"})
    assert check_buckets_have_access_block([bucket, legacy, by_dependency, by_value]) == []


def test_access_block_for_another_bucket_does_not_count() -> None:
    bucket = resource("aws:s3/bucket:Bucket", "videos", {"bucket": "mentora-videos"})
    other = resource(ACCESS_BLOCK_TYPE, "other-pab", {"bucket": "someone-else"})
    assert [urn for _, urn in check_buckets_have_access_block([bucket, other])] == [bucket.urn]
