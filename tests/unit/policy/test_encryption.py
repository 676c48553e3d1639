"""Every bucket has an explicit server-side encryption configuration (AES256 or KMS)."""

from __future__ import annotations

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.encryption import check_buckets_encrypted
from tests.unit.policy.conftest import resource

SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_V2 = (
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
)


def _sse(
    name: str, algorithm: str, bucket: str = "mentora-videos", token: str = SSE
) -> PolicyResource:
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm}}
    return resource(token, name, {"bucket": bucket, "rules": [rule]})


def test_bucket_without_encryption_is_rejected() -> None:
    bucket = resource("aws:s3/bucket:Bucket", "videos", {"bucket": "mentora-videos"})
    [(message, urn)] = check_buckets_encrypted([bucket])
    assert urn == bucket.urn
    assert "'videos'" in message and "no BucketServerSideEncryptionConfiguration" in message
    assert "BucketServerSideEncryptionConfiguration(" in message


def test_aes256_and_kms_pass() -> None:
    bucket = resource("aws:s3/bucket:Bucket", "videos", {"bucket": "mentora-videos"})
    assert check_buckets_encrypted([bucket, _sse("videos-sse", "AES256")]) == []
    assert check_buckets_encrypted([bucket, _sse("videos-sse", "aws:kms", token=SSE_V2)]) == []


def test_config_linked_by_dependency_while_bucket_id_is_unknown() -> None:
    bucket = resource("aws:s3/bucketV2:BucketV2", "videos", {"bucket": "mentora-videos"})
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    config = resource(
        SSE,
        "videos-sse",
        {"bucket": UNKNOWN_STRING_VALUE, "rules": [rule]},
        deps={"bucket": [bucket]},
    )
    assert check_buckets_encrypted([bucket, config]) == []


def test_unknown_algorithm_and_encryption_of_another_bucket() -> None:
    bucket = resource("aws:s3/bucket:Bucket", "videos", {"bucket": "mentora-videos"})
    assert check_buckets_encrypted([bucket, _sse("videos-sse", "weird")])[0][0].count("weird") == 1
    assert check_buckets_encrypted([bucket, _sse("x-sse", "AES256", bucket="other")])
    assert check_buckets_encrypted([bucket, _sse("videos-sse", UNKNOWN_STRING_VALUE)]) == []


def test_inline_bucket_encryption_does_not_count() -> None:
    inline = {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}}
    bucket = resource(
        "aws:s3/bucket:Bucket",
        "videos",
        {"bucket": "mentora-videos", "serverSideEncryptionConfiguration": inline},
    )
    assert len(check_buckets_encrypted([bucket])) == 1
