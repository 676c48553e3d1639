"""`S3Storage`: the private AWS S3 video bucket of a cloud stack and the app's key for it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.cloud.s3_bucket import app_credentials, private_bucket
from components.former import formerly


@dataclass(frozen=True, kw_only=True)
class S3StorageArgs:
    """The AWS bucket and the IAM user the app signs requests with."""

    bucket_name: str
    region: str
    app_user_name: str
    cors_origins: list[str] = field(default_factory=list)
    hardened: bool = False
    provider: pulumi.ProviderResource | None = None


class S3Storage(pulumi.ComponentResource):
    """Owns the bucket with every setting that keeps it private, and the app's IAM key."""

    bucket_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    """Empty: the AWS SDKs find S3 themselves."""
    region: pulumi.Output[str]
    access_key_id: pulumi.Output[str]
    """Access key of the app's IAM user (secret)."""
    secret_access_key: pulumi.Output[str]
    """Secret key of the app's IAM user (secret)."""

    def __init__(
        self, name: str, args: S3StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "mentora:infra:S3Storage", name, None, formerly("mentora:infra:Storage", opts)
        )
        bucket = private_bucket(
            name,
            bucket_name=args.bucket_name,
            hardened=args.hardened,
            cors_origins=args.cors_origins,
            provider=args.provider,
            parent=self,
        )
        credentials = app_credentials(
            name, user_name=args.app_user_name, bucket=bucket, provider=args.provider, parent=self
        )
        self.bucket_name = bucket.bucket
        self.endpoint = pulumi.Output.from_input("")
        self.region = pulumi.Output.from_input(args.region)
        self.access_key_id = credentials.access_key_id
        self.secret_access_key = credentials.secret_access_key
        self.register_outputs(
            {"bucket_name": self.bucket_name, "endpoint": self.endpoint, "region": self.region}
        )
