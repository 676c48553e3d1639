"""AWS IAM: the app user's access key rotated with two keys alive across the switch, through
boto3's IAM client (not pulumi_aws: the switch needs the new key to exist, be deployed and be
smoked before the old one goes, which one `pulumi up` cannot sequence for a single `AccessKey`).

Order (AWS's own guide, "Rotate access keys": create the second key, update the app, make the
old one inactive, check, delete it): `begin` (ListAccessKeys; IAM allows two keys per user, so a
leftover second key is deleted first when it is inactive, refused when active), `CreateAccessKey`;
after the app runs on the new key, `finish`: `UpdateAccessKey(Status=Inactive)` on the old one,
then `DeleteAccessKey`. IAM is eventually consistent ("Changes that I make are not always
immediately visible", IAM troubleshooting guide), so `until_usable` waits for the new key to
sign an STS `GetCallerIdentity` before anything is switched to it, and `until_refused` waits
for the old one to be refused with STS's `InvalidClientTokenId` (STS API reference, Common
Errors). Requests are checked against botocore's IAM and STS models in
tests/unit/rotation/test_cloud_aws.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rotation.cloud_driver import until

MAX_KEYS = 2  # IAM's limit of access keys per user
REFUSED = "InvalidClientTokenId"  # STS: the access key ID does not exist in AWS's records


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


def _answer(sts: Any) -> str:
    """'ok' when `sts` (a client signed with one key) is answered, else the error code."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    try:
        sts.get_caller_identity()
    except ClientError as exc:
        return str(exc.response.get("Error", {}).get("Code", "?"))
    return "ok"


def until_usable(
    sts: Any, deadline_s: float = 60.0, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Wait until the new key signs a request AWS accepts (IAM propagates new keys late)."""
    until(lambda: _answer(sts), "ok", "aws: the new access key was not accepted", deadline_s, sleep)


def until_refused(
    sts: Any, deadline_s: float = 60.0, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Wait until the retired key is refused (InvalidClientTokenId)."""
    what = "aws: the retired access key was still accepted"
    until(lambda: _answer(sts), REFUSED, what, deadline_s, sleep)
