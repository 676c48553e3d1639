"""AWS IAM: the app user's access key rotated with two keys alive across the switch, through
boto3's IAM client (not pulumi_aws: the switch needs the new key to exist, be deployed and be
smoked before the old one goes, which one `pulumi up` cannot sequence for a single `AccessKey`).

Order (AWS's own guide, "Rotate access keys": create the second key, update the app, make the
old one inactive, check, delete it): `begin` (ListAccessKeys; IAM allows two keys per user, so a
leftover second key is deleted first when it is inactive, refused when active), `CreateAccessKey`;
after the app runs on the new key, `finish`: `UpdateAccessKey(Status=Inactive)` on the old one,
then `DeleteAccessKey`. Requests are checked against botocore's IAM model in
tests/unit/rotation/test_cloud_aws.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_KEYS = 2  # IAM's limit of access keys per user


class KeyLimit(Exception):
    """The user already holds two active keys: one must go before a rotation can start."""


@dataclass(frozen=True)
class NewKey:
    """The key made by `begin` (its secret is shown once by IAM; keep it only in memory)."""

    access_key_id: str
    secret_access_key: str


def begin(iam: Any, user: str, current_id: str) -> NewKey:
    """Make the second key of `user`, clearing an inactive leftover first."""
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    others = [k for k in keys if k["AccessKeyId"] != current_id]
    if len(keys) >= MAX_KEYS:
        for key in others:
            if key["Status"] == "Active":
                raise KeyLimit(
                    f"aws: IAM user {user} already has two active access keys "
                    f"({key['AccessKeyId'][:8]}... is not the stack's); deactivate the one the "
                    "app does not use, then rotate again"
                )
            iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    created = iam.create_access_key(UserName=user)["AccessKey"]
    return NewKey(created["AccessKeyId"], created["SecretAccessKey"])


def finish(iam: Any, user: str, old_id: str) -> None:
    """Retire the old key once the app uses the new one: inactive first, then deleted."""
    iam.update_access_key(UserName=user, AccessKeyId=old_id, Status="Inactive")
    iam.delete_access_key(UserName=user, AccessKeyId=old_id)
