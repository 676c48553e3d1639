"""A review stack's key on dev's bucket, exercised against moto's S3 with IAM enforcement on
(moto 5.2.5 `set_initial_no_auth_action_count`: requests after the first N are checked against
the caller's IAM policies): its objects stay under its prefix, and smoke's bucket probe works
with a key that HeadBucket refuses. moto does not evaluate policy Conditions, so the `s3:prefix`
limit on listing is checked on the policy document (tests/unit/test_program_review_cloud.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from components.cloud.prefix_storage import prefix_policy
from smoke.checks.storage import probe_bucket

BUCKET = "mentora-videos-dev"
SETUP_CALLS = 4  # create_bucket, create_user, put_user_policy, create_access_key


@pytest.fixture(autouse=True)
def admin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "admin"),
        ("AWS_SECRET_ACCESS_KEY", "admin"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def as_pr4(body: Callable[[Any], None]) -> None:
    """Run `body` with pr-4's client while moto enforces IAM (only within the decorated call)."""
    set_initial_no_auth_action_count(SETUP_CALLS)(lambda: body(_pr4_client()))()


def _pr4_client() -> Any:
    s3, iam = boto3.client("s3"), boto3.client("iam")
    s3.create_bucket(Bucket=BUCKET)
    iam.create_user(UserName="mentora-pr-4-app")
    iam.put_user_policy(
        UserName="mentora-pr-4-app",
        PolicyName="prefix",
        PolicyDocument=prefix_policy(BUCKET, "pr-4/"),
    )
    key = iam.create_access_key(UserName="mentora-pr-4-app")["AccessKey"]
    return boto3.client(
        "s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )


def denied(call: Any) -> bool:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "AccessDenied"
    return False


def test_the_key_reads_and_writes_only_under_its_prefix() -> None:
    as_pr4(reads_and_writes_only_under_its_prefix)


def reads_and_writes_only_under_its_prefix(pr4_client: Any) -> None:
    pr4_client.put_object(Bucket=BUCKET, Key="pr-4/smoke/r1/object.txt", Body=b"x")
    got = pr4_client.get_object(Bucket=BUCKET, Key="pr-4/smoke/r1/object.txt")
    assert got["Body"].read() == b"x"
    # Another pull request's prefix (pr-42 starts with pr-4) and dev's own keys are refused.
    for key in ("pr-42/video.mp4", "videos/dev.mp4"):
        assert denied(lambda k=key: pr4_client.put_object(Bucket=BUCKET, Key=k, Body=b"x")), key
        assert denied(lambda k=key: pr4_client.get_object(Bucket=BUCKET, Key=k)), key


def test_smokes_bucket_probe_works_with_a_prefix_key() -> None:
    as_pr4(probe_works_with_a_prefix_key)


def probe_works_with_a_prefix_key(pr4_client: Any) -> None:
    assert denied(lambda: probe_bucket(pr4_client, BUCKET, ""))  # HeadBucket: refused
    probe_bucket(pr4_client, BUCKET, "pr-4/")  # a one-key list under its prefix: allowed
