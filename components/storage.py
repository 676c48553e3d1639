"""The private S3 bucket for videos."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.local.s3_server import S3Server


@dataclass(frozen=True, kw_only=True)
class LocalS3Args:
    """Where the embedded S3-compatible store runs."""

    port: int
    data_dir: str


@dataclass(frozen=True, kw_only=True)
class AwsS3Args:
    """The AWS bucket of a cloud stack and the IAM user the app signs requests with."""

    app_user_name: str
    cors_origins: list[str] = field(default_factory=list)
    hardened: bool = False
    provider: pulumi.ProviderResource | None = None


@dataclass(frozen=True, kw_only=True)
class StorageArgs:
    """Inputs of `Storage` (one of `local` and `aws`)."""

    bucket_name: str
    region: str
    local: LocalS3Args | None = None
    aws: AwsS3Args | None = None


class Storage(pulumi.ComponentResource):
    """Owns the private video bucket (local store or AWS S3) and the app's credentials for it."""

    bucket_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    """S3 endpoint URL; empty for AWS itself."""
    region: pulumi.Output[str]
    access_key_id: pulumi.Output[str]
    """Access key of the app's principal (secret)."""
    secret_access_key: pulumi.Output[str]
    """Secret key of the app's principal (secret)."""

    def __init__(
        self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:Storage", name, None, opts)
        if (args.local is None) == (args.aws is None):
            raise pulumi.RunError("storage: give exactly one of local= or aws=")
        if args.aws is not None:
            self._aws(name, args, args.aws)
        else:
            assert args.local is not None
            server = S3Server(
                f"{name}-server",
                port=args.local.port,
                data_dir=args.local.data_dir,
                bucket=args.bucket_name,
                region=args.region,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.bucket_name = server.bucket
            self.endpoint = server.endpoint
            self.region = server.region
            self.access_key_id = pulumi.Output.secret(server.access_key_id)
            self.secret_access_key = pulumi.Output.secret(server.secret_access_key)
        self.register_outputs(
            {"bucket_name": self.bucket_name, "endpoint": self.endpoint, "region": self.region}
        )

    def _aws(self, name: str, args: StorageArgs, aws: AwsS3Args) -> None:
        from components.cloud.s3_bucket import app_credentials, private_bucket

        bucket = private_bucket(
            name,
            bucket_name=args.bucket_name,
            hardened=aws.hardened,
            cors_origins=aws.cors_origins,
            provider=aws.provider,
            parent=self,
        )
        credentials = app_credentials(
            name, user_name=aws.app_user_name, bucket=bucket, provider=aws.provider, parent=self
        )
        self.bucket_name = bucket.bucket
        self.endpoint = pulumi.Output.from_input("")
        self.region = pulumi.Output.from_input(args.region)
        self.access_key_id = credentials.access_key_id
        self.secret_access_key = credentials.secret_access_key
