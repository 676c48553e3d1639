"""`LocalStorage`: the embedded S3-compatible store holding the private video bucket."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from components.former import formerly
from components.local.s3_server import S3Server, S3Settings


@dataclass(frozen=True, kw_only=True)
class LocalStorageArgs:
    """Where the embedded S3-compatible store runs and the bucket it holds."""

    bucket_name: str
    region: str
    port: int
    data_dir: str
    backup_bucket: str = ""
    """A bucket for database backups with a key pair of its own ("" for none)."""
    hints: Mapping[str, str] = field(default_factory=dict)
    """How the user changes a setting (`port`, `data_dir`), shown in the server's errors."""


class LocalStorage(pulumi.ComponentResource):
    """Owns the local S3 store, its private bucket and the app's key pair for it."""

    bucket_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    """The store's URL (AWS_ENDPOINT_URL_S3)."""
    region: pulumi.Output[str]
    access_key_id: pulumi.Output[str]
    """Access key of the app's principal (secret)."""
    secret_access_key: pulumi.Output[str]
    """Secret key of the app's principal (secret)."""
    backup_access_key_id: pulumi.Output[str]
    """Access key of the backup archiver's principal: the backup bucket only (secret)."""
    backup_secret_access_key: pulumi.Output[str]
    tenant_admin_access_key_id: pulumi.Output[str]
    """Access key of the principal that makes review stacks' buckets in this store (secret)."""
    tenant_admin_secret_access_key: pulumi.Output[str]

    def __init__(
        self, name: str, args: LocalStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "mentora:infra:LocalStorage", name, None, formerly("mentora:infra:Storage", opts)
        )
        settings = S3Settings(
            port=args.port,
            data_dir=Path(args.data_dir),
            hints=args.hints,
            bucket=args.bucket_name,
            region=args.region,
            backup_bucket=args.backup_bucket,
        )
        server = S3Server(f"{name}-server", settings, pulumi.ResourceOptions(parent=self))
        self.bucket_name = server.bucket
        self.endpoint = server.endpoint
        self.region = server.region
        self.access_key_id = pulumi.Output.secret(server.access_key_id)
        self.secret_access_key = pulumi.Output.secret(server.secret_access_key)
        self.backup_bucket = args.backup_bucket
        self.backup_access_key_id = pulumi.Output.secret(server.backup_access_key_id)
        self.backup_secret_access_key = pulumi.Output.secret(server.backup_secret_access_key)
        self.tenant_admin_access_key_id = pulumi.Output.secret(server.tenant_admin_access_key_id)
        self.tenant_admin_secret_access_key = pulumi.Output.secret(
            server.tenant_admin_secret_access_key
        )
        self.register_outputs(
            {"bucket_name": self.bucket_name, "endpoint": self.endpoint, "region": self.region}
        )
