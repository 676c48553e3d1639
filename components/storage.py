"""The private S3 bucket for videos."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.local.s3_server import S3Server


@dataclass(frozen=True, kw_only=True)
class LocalS3Args:
    """Where the embedded S3-compatible store runs."""

    port: int
    data_dir: str


@dataclass(frozen=True, kw_only=True)
class StorageArgs:
    """Inputs of `Storage`."""

    bucket_name: str
    region: str
    local: LocalS3Args | None = None


class Storage(pulumi.ComponentResource):
    """Owns the private video bucket and the credentials the app uses for it."""

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
        if args.local is None:
            raise pulumi.RunError("storage: only the local store is wired in this program so far")
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
