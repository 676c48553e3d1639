"""The local S3 store: a second access key of the app's IAM user (IAM allows two per user),
made and deleted by the store's rotator user, whose policy allows only that
(components/local/s3_server.py). The store keeps IAM in memory: a restart of it issues new keys
anyway, which the state then names."""

from __future__ import annotations

from typing import Any

from components.local.s3_principals import APP_USER
from rotation.kinds import Created, NotRefused
from rotation.state import StackState

RESOURCE = "storage-server"


def _client(out: dict[str, Any], service: str, key: str, secret: str) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    return boto3.client(
        service,
        endpoint_url=str(out["endpoint"]),
        region_name=str(out.get("region") or "us-east-1"),
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def _iam(out: dict[str, Any]) -> Any:
    if not out.get("rotator_access_key_id"):
        raise RuntimeError(
            "storage: the local S3 store has no rotator key (made by an older version); run "
            "`mentora-infra up local` once to restart it with one, then rotate"
        )
    return _client(
        out, "iam", str(out["rotator_access_key_id"]), str(out["rotator_secret_access_key"])
    )


class Storage:
    """Rotates the app's S3 access key."""

    name = "storage"

    def create(self, state: StackState) -> Created:
        out = state.outputs(RESOURCE)
        key = _iam(out).create_access_key(UserName=APP_USER)["AccessKey"]
        old_id, old_secret = str(out["access_key_id"]), str(out["secret_access_key"])
        return Created(
            self.name,
            {old_id: key["AccessKeyId"], old_secret: key["SecretAccessKey"]},
            {"id": old_id, "secret": old_secret},
        )

    def revoke_others(self, state: StackState) -> list[str]:
        out = state.outputs(RESOURCE)
        iam = _iam(out)
        revoked = []
        for key in iam.list_access_keys(UserName=APP_USER)["AccessKeyMetadata"]:
            if key["AccessKeyId"] != out["access_key_id"]:
                iam.delete_access_key(UserName=APP_USER, AccessKeyId=key["AccessKeyId"])
                revoked.append(f"s3 access key {key['AccessKeyId'][:8]}...")
        return revoked

    def refused(self, state: StackState, old: dict[str, str]) -> str:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        out = state.outputs(RESOURCE)
        try:
            _client(out, "s3", old["id"], old["secret"]).head_bucket(Bucket=str(out["bucket"]))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            return f"storage: {code} for the old access key"
        raise NotRefused("storage: the old access key still reads the bucket")
