"""What the storage check reads from a bucket's own settings: public access block, policy, ACL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from smoke.clients.s3 import BLOCK_FLAGS, bucket_exposure, public_statements

OWNER = {"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"}
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def error(code: str, status: int = 403) -> ClientError:
    response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "GetBucketSomething")


class FakeS3:
    """Answers the three reads the check makes; a setting given as an exception is raised."""

    def __init__(self, **answers: Any) -> None:
        self.answers = {
            "block": {"PublicAccessBlockConfiguration": dict.fromkeys(BLOCK_FLAGS, True)},
            "policy": error("NoSuchBucketPolicy", 404),
            "acl": {"Grants": [OWNER]},
            **answers,
        }
        self.buckets: list[str] = []

    def _answer(self, name: str, bucket: str) -> Any:
        self.buckets.append(bucket)
        answer = self.answers[name]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get_public_access_block(self, Bucket: str) -> Any:  # noqa: N803 (boto3's spelling)
        return self._answer("block", Bucket)

    def get_bucket_policy(self, Bucket: str) -> Any:  # noqa: N803
        return self._answer("policy", Bucket)

    def get_bucket_acl(self, Bucket: str) -> Any:  # noqa: N803
        return self._answer("acl", Bucket)


def policy(*statements: dict[str, Any]) -> dict[str, str]:
    return {"Policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


def test_a_private_bucket_has_no_finding() -> None:
    client = FakeS3()
    found = bucket_exposure(client, "videos")
    assert (found.findings, found.unread) == ([], [])
    assert client.buckets == ["videos"] * 3


def test_a_missing_public_access_block_is_a_finding() -> None:
    found = bucket_exposure(FakeS3(block=error("NoSuchPublicAccessBlockConfiguration", 404)), "b")
    assert found.findings == ["it has no public access block"]


def test_each_public_access_block_setting_left_off_is_named() -> None:
    config = dict.fromkeys(BLOCK_FLAGS, True) | {"IgnorePublicAcls": False}
    del config["RestrictPublicBuckets"]
    found = bucket_exposure(FakeS3(block={"PublicAccessBlockConfiguration": config}), "b")
    assert found.findings == [
        "its public access block has IgnorePublicAcls, RestrictPublicBuckets off"
    ]


@pytest.mark.parametrize(
    "principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::1:root", "*"]}, {"CanonicalUser": "*"}]
)
def test_a_policy_allowing_everyone_is_a_finding(principal: Any) -> None:
    grant = {"Sid": "Open", "Effect": "Allow", "Principal": principal, "Action": "s3:GetObject"}
    found = bucket_exposure(FakeS3(policy=policy(grant)), "b")
    assert found.findings == ["its policy allows everyone (statement Open)"]


def test_statements_that_do_not_open_the_bucket() -> None:
    account = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*"}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*"}
    narrowed = {"Effect": "Allow", "Principal": "*", "Condition": {"IpAddress": {"x": "1"}}}
    text = policy(account, deny, narrowed)["Policy"]
    assert public_statements(text) == []
    not_principal = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}}
    assert public_statements(json.dumps({"Statement": not_principal})) == ["statement 0"]


def test_a_public_acl_grant_is_a_finding() -> None:
    public = {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}
    found = bucket_exposure(FakeS3(acl={"Grants": [OWNER, public]}), "b")
    assert found.findings == ["its ACL grants READ to everyone"]


def test_every_exposure_is_reported_at_once() -> None:
    public = {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}
    client = FakeS3(
        block=error("NoSuchPublicAccessBlockConfiguration", 404),
        policy=policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}),
        acl={"Grants": [public]},
    )
    assert len(bucket_exposure(client, "b").findings) == 3


def test_settings_the_key_may_not_read_are_reported_not_passed() -> None:
    client = FakeS3(block=error("AccessDenied"), acl=error("NotImplemented", 501))
    found = bucket_exposure(client, "b")
    assert found.findings == []
    assert found.unread == [
        "s3:GetBucketPublicAccessBlock (AccessDenied)",
        "s3:GetBucketAcl (NotImplemented)",
    ]


def test_any_other_error_propagates() -> None:
    with pytest.raises(ClientError):
        bucket_exposure(FakeS3(policy=error("InternalError", 500)), "b")
