"""`S3PrefixStorage`: a review stack's share of the dev bucket: a prefix, its own IAM key."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cloud.s3_bucket import BUCKET_ACTIONS, OBJECT_ACTIONS


@dataclass(frozen=True, kw_only=True)
class S3PrefixStorageArgs:
    """The dev bucket, the prefix the review stack owns in it, and its IAM user's name."""

    bucket_name: pulumi.Input[str]
    prefix: str
    """Ends with `/` (e.g. `pr-42/`): `pr-4/` must not match `pr-42/...`."""
    region: str
    app_user_name: str
    provider: pulumi.ProviderResource | None = None


def prefix_policy(bucket: str, prefix: str) -> str:
    """IAM policy: the app's object actions under `prefix` only, and listing limited to it
    (`s3:prefix` is the condition key of ListBucket and ListBucketMultipartUploads).

    >>> json.loads(prefix_policy("b", "pr-4/"))["Statement"][0]["Resource"]
    'arn:aws:s3:::b/pr-4/*'
    """
    if not prefix.endswith("/") or prefix.startswith("/"):
        raise ValueError(f"storage: prefix {prefix!r} must be like pr-42/ (no leading slash)")
    arn = f"arn:aws:s3:::{bucket}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": list(OBJECT_ACTIONS), "Resource": f"{arn}/{prefix}*"},
                {
                    "Effect": "Allow",
                    "Action": list(BUCKET_ACTIONS),
                    "Resource": arn,
                    "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}},
                },
            ],
        }
    )


class S3PrefixStorage(pulumi.ComponentResource):
    """Owns the review stack's IAM user, its prefix-scoped policy and its access key.

    The bucket itself is dev's (private, encrypted, TLS-only: components/cloud/s3_bucket.py);
    nothing here can read or write outside the prefix, and `review down` deletes the user.
    """

    bucket_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    """Empty: the AWS SDKs find S3 themselves."""
    region: pulumi.Output[str]
    prefix: pulumi.Output[str]
    """The key prefix the app must write under (AWS_S3_PREFIX)."""
    access_key_id: pulumi.Output[str]
    """Access key of the review stack's IAM user (secret)."""
    secret_access_key: pulumi.Output[str]
    """Secret key of the review stack's IAM user (secret)."""

    def __init__(
        self, name: str, args: S3PrefixStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:S3PrefixStorage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        user = aws.iam.User(
            f"{name}-app-user", name=args.app_user_name, path="/mentora/review/", opts=child
        )
        aws.iam.UserPolicy(
            f"{name}-app-policy",
            user=user.name,
            policy=pulumi.Output.from_input(args.bucket_name).apply(
                lambda bucket: prefix_policy(bucket, args.prefix)
            ),
            opts=child,
        )
        key = aws.iam.AccessKey(f"{name}-app-key", user=user.name, opts=child)
        self.bucket_name = pulumi.Output.from_input(args.bucket_name)
        self.endpoint = pulumi.Output.from_input("")
        self.region = pulumi.Output.from_input(args.region)
        self.prefix = pulumi.Output.from_input(args.prefix)
        self.access_key_id = pulumi.Output.secret(key.id)
        self.secret_access_key = pulumi.Output.secret(key.secret)
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "endpoint": self.endpoint,
                "region": self.region,
                "prefix": self.prefix,
                "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key,
            }
        )
