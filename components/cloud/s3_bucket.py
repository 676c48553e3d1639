"""The AWS side of `Storage`: a private, encrypted video bucket and the app's least-privilege key.

Split out of components/storage.py because the bucket is nine resources (pulumi-aws v7 configures
a bucket through separate resources); `Storage` stays the one ComponentResource that owns them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cloud.providers import stateful

INCOMPLETE_UPLOAD_DAYS = 7
NONCURRENT_VERSION_DAYS = 30
# What the app does with videos: upload (multipart too), play, list, delete. Nothing else.
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
BUCKET_ACTIONS = ("s3:ListBucket", "s3:ListBucketMultipartUploads")


@dataclass(frozen=True)
class AppCredentials:
    """The app's IAM access key for the bucket."""

    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]


def private_bucket(
    name: str,
    *,
    bucket_name: str,
    hardened: bool,
    cors_origins: Sequence[str],
    provider: pulumi.ProviderResource | None,
    parent: pulumi.Resource,
) -> aws.s3.Bucket:
    """Declare the bucket and every setting that keeps it private, encrypted and tidy."""
    bucket = aws.s3.Bucket(
        f"{name}-bucket",
        bucket=bucket_name,
        force_destroy=not hardened,  # dev buckets can be torn down; prod keeps its videos
        opts=stateful(hardened, provider, parent=parent),
    )
    child = pulumi.ResourceOptions(parent=bucket, provider=provider)
    block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},  # ACLs off: policies alone grant access
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                "bucket_key_enabled": True,
            }
        ],
        opts=child,
    )
    rules: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = [
        {
            "id": "abort-incomplete-uploads",
            "status": "Enabled",
            "filter": {"prefix": ""},  # one attribute: an empty filter is deprecated
            "abort_incomplete_multipart_upload": {"days_after_initiation": INCOMPLETE_UPLOAD_DAYS},
        }
    ]
    versioning = None
    if hardened:
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        rules.append(
            {
                "id": "expire-old-versions",
                "status": "Enabled",
                "filter": {"prefix": ""},  # one attribute: an empty filter is deprecated
                "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_VERSION_DAYS},
            }
        )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=rules,
        opts=pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[versioning] if versioning else [])
        ),
    )
    aws.s3.BucketCorsConfiguration(
        f"{name}-cors",
        bucket=bucket.id,
        cors_rules=[
            {
                "allowed_methods": ["GET", "HEAD", "PUT", "POST"],
                "allowed_origins": list(cors_origins),
                "allowed_headers": ["*"],
                "expose_headers": ["ETag"],
                "max_age_seconds": 3600,
            }
        ],
        opts=child,
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(_deny_plain_http),
        # The account-level block must exist first or AWS may judge the policy in between.
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[block])),
    )
    return bucket


def app_credentials(
    name: str,
    *,
    user_name: str,
    bucket: aws.s3.Bucket,
    provider: pulumi.ProviderResource | None,
    parent: pulumi.Resource,
) -> AppCredentials:
    """An IAM user that can use objects of `bucket` and nothing else; its access key (secret)."""
    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    user = aws.iam.User(f"{name}-app-user", name=user_name, path="/mentora/", opts=opts)
    aws.iam.UserPolicy(
        f"{name}-app-policy",
        user=user.name,
        policy=bucket.arn.apply(_app_policy),
        opts=opts,
    )
    key = aws.iam.AccessKey(f"{name}-app-key", user=user.name, opts=opts)
    return AppCredentials(
        access_key_id=pulumi.Output.secret(key.id),
        secret_access_key=pulumi.Output.secret(key.secret),
    )


def _deny_plain_http(arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def _app_policy(arn: str) -> str:
    """Least privilege: object actions on the bucket's objects, listing on the bucket only."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": list(OBJECT_ACTIONS), "Resource": f"{arn}/*"},
                {"Effect": "Allow", "Action": list(BUCKET_ACTIONS), "Resource": arn},
            ],
        }
    )
