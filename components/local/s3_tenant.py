"""`S3Tenant`: a bucket and the app's IAM user for it in an S3 store another stack runs.

A local review stack (`mentora:baseStack`) runs no store of its own (~86 MB idle): its base's
store makes it a bucket (`mentora-videos-pr-<N>`, the managed settings of every local bucket)
and an IAM user whose policy is that bucket only, through the base's tenant admin principal
(components/local/s3_server.py, `review_base` output). Another stack's key is refused on it
with 403, as tests/integration/test_review_stacks.py attacks.

The store keeps objects across restarts but not IAM (s3_server.py): after the base's store
restarted, the user and key are gone, a refresh reports the tenant gone, and the next `up`
makes the user and key again; the bucket and its objects stay.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.local.errors import LocalServerError

SERVICE = "storage"
POLICY = "tenant-bucket"
REPLACE_KEYS = ("bucket", "user")
"""A new base store address (its port moved, its objects with it) is an update: the tenant is
made again there (bucket kept, user and key new); the old address answers no delete."""
SECRET_OUTPUTS = ("admin_key_id", "admin_secret", "access_key_id", "secret_access_key")


def tenant_user(stack: str) -> str:
    """The IAM user of review stack `stack` in its base's store."""
    return f"mentora-app-{stack}"


def _client(service: str, endpoint: str, region: str, key: str, secret: str) -> Any:
    from components.local.s3_server import client

    return client(service, endpoint, region, key, secret)


class Store:
    """The base's store as its tenant admin sees it."""

    def __init__(self, endpoint: str, region: str, key: str, secret: str) -> None:
        self.endpoint, self.region = endpoint, region
        self.s3 = _client("s3", endpoint, region, key, secret)
        self.iam = _client("iam", endpoint, region, key, secret)

    def present(self, bucket: str, user: str) -> list[str]:
        """Which of the bucket and the user the store has, in words."""
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        from components.local.s3_server import bucket_exists

        found = [f"bucket {bucket}"] if bucket_exists(self.s3, bucket) else []
        try:
            self.iam.get_user(UserName=user)
            found.append(f"IAM user {user}")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
                raise
        return found

    def make(self, bucket: str, user: str) -> dict[str, str]:
        """The bucket (kept when it exists), its settings, the user, its policy and a new key."""
        from components.local.s3_principals import bucket_policy
        from components.local.s3_server import ensure_bucket

        ensure_bucket(self.s3, bucket, self.region)
        self._drop_user(user)  # a retried create: its old keys must not stay valid
        self.iam.create_user(UserName=user)
        policy = bucket_policy(bucket)
        self.iam.put_user_policy(UserName=user, PolicyName=POLICY, PolicyDocument=policy)
        key = self.iam.create_access_key(UserName=user)["AccessKey"]
        return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}

    def drop(self, bucket: str, user: str) -> None:
        """The bucket with every object, and the user with its keys and policy."""
        from components.local.s3_server import bucket_exists

        if bucket_exists(self.s3, bucket):
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for page in pages:
                keys = [{"Key": o["Key"]} for o in page.get("Contents") or []]
                if keys:
                    self.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
            self.s3.delete_bucket(Bucket=bucket)
        self._drop_user(user)

    def _drop_user(self, user: str) -> None:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        try:
            for key in self.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
                self.iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
                return
            raise
        for name in self.iam.list_user_policies(UserName=user)["PolicyNames"]:
            self.iam.delete_user_policy(UserName=user, PolicyName=name)
        self.iam.delete_user(UserName=user)


def _store(props: dict[str, Any]) -> Store:
    return Store(props["endpoint"], props["region"], props["admin_key_id"], props["admin_secret"])


def key_works(props: dict[str, Any]) -> bool:
    """Whether the tenant's own key still reads its bucket (False after the store lost IAM)."""
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    s3 = _client(
        "s3", props["endpoint"], props["region"], props["access_key_id"], props["secret_access_key"]
    )
    try:
        s3.head_bucket(Bucket=props["bucket"])
    except ClientError:
        return False
    except BotoCoreError:
        raise
    return True


class S3TenantProvider(ResourceProvider):
    """Creates, reads and drops one bucket and its IAM user in an existing store."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        try:
            keys = _store(props).make(props["bucket"], props["user"])
        except (BotoCoreError, ClientError) as exc:
            raise LocalServerError(
                f"storage: cannot make bucket {props['bucket']} in the base stack's store at "
                f"{props['endpoint']} ({exc}); bring the base stack up (make up), then run the "
                "review stack's up again",
                service=SERVICE,
            ) from None
        return CreateResult(id_=f"{props['endpoint']}/{props['bucket']}", outs={**props, **keys})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in REPLACE_KEYS if olds.get(key) != news.get(key)]
        moved = [
            k for k in ("endpoint", "admin_key_id", "admin_secret") if olds.get(k) != news.get(k)
        ]
        return DiffResult(
            changes=bool(replaces or moved), replaces=replaces, delete_before_replace=True
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("endpoint") != news["endpoint"]:
            return UpdateResult(outs=self.create(news).outs)
        # The base's store issued a new admin key (it restarted): the tenant's own is kept.
        return UpdateResult(outs={**olds, "admin_key_id": news["admin_key_id"],
                                  "admin_secret": news["admin_secret"]})  # fmt: skip

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]

        try:
            works = key_works(props)
        except BotoCoreError:
            return ReadResult(id_=id_, outs=props)  # down: its own stack restarts it
        return ReadResult(id_=id_ if works else "", outs=props if works else {})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        _store(props).drop(props["bucket"], props["user"])


class S3Tenant(Resource):
    """One bucket and its IAM user (the app's key) in the store at `endpoint`."""

    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        endpoint: pulumi.Input[str],
        region: str,
        admin_key_id: pulumi.Input[str],
        admin_secret: pulumi.Input[str],
        bucket: str,
        user: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "endpoint": endpoint,
            "region": region,
            "admin_key_id": pulumi.Output.secret(admin_key_id),
            "admin_secret": pulumi.Output.secret(admin_secret),
            "bucket": bucket,
            "user": user,
            "access_key_id": None,
            "secret_access_key": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        super().__init__(
            S3TenantProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret)
        )
