"""`LocalBranchStorage`: a review stack's bucket and key in its base stack's S3 store: the local
counterpart of a per-PR prefix of dev's bucket (components/cloud/prefix_storage.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.local.s3_tenant import S3Tenant


@dataclass(frozen=True, kw_only=True)
class LocalBranchStorageArgs:
    """The base stack's store and the bucket made in it."""

    endpoint: pulumi.Input[str]
    region: str
    admin_key_id: pulumi.Input[str]
    """The base store's tenant admin key (its `review_base` output; secret)."""
    admin_secret: pulumi.Input[str]
    bucket_name: str
    user: str


class LocalBranchStorage(pulumi.ComponentResource):
    """Owns one bucket and the app's IAM user for it in another stack's S3 store."""

    bucket_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    """The base's store (AWS_ENDPOINT_URL_S3)."""
    region: pulumi.Output[str]
    access_key_id: pulumi.Output[str]
    """Access key of the app's user: this bucket only (secret)."""
    secret_access_key: pulumi.Output[str]

    def __init__(
        self, name: str, args: LocalBranchStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:LocalBranchStorage", name, None, opts)
        tenant = S3Tenant(
            f"{name}-tenant",
            endpoint=args.endpoint,
            region=args.region,
            admin_key_id=args.admin_key_id,
            admin_secret=args.admin_secret,
            bucket=args.bucket_name,
            user=args.user,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.bucket_name = pulumi.Output.from_input(args.bucket_name)
        self.endpoint = pulumi.Output.from_input(args.endpoint)
        self.region = pulumi.Output.from_input(args.region)
        self.access_key_id = pulumi.Output.secret(tenant.access_key_id)
        self.secret_access_key = pulumi.Output.secret(tenant.secret_access_key)
        self.register_outputs(
            {"bucket_name": self.bucket_name, "endpoint": self.endpoint, "region": self.region}
        )
