"""The local S3 store's IAM principals and their policies: who may do what in it.

Every start of the store makes them again (moto keeps no IAM across a restart), with new keys:
the app (its bucket), the rotator (the app's keys only), the backup archiver (the backup
bucket only) and the tenant admin (review stacks' buckets and users, components/local/s3_tenant.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from components.local.s3_server import S3Settings

APP_USER = "mentora-app"
ROTATOR_USER = "mentora-rotator"
"""May only manage the app user's access keys: `mentora-infra rotate storage` uses it."""
BACKUP_USER = "mentora-backup"  # the archiver's principal: only the backup bucket
TENANT_ADMIN_USER = "mentora-review-admin"
"""Makes review stacks' buckets and users in this store (components/local/s3_tenant.py)."""


def rotator_policy() -> str:
    """The rotator's IAM policy: the app user's access keys, nothing else."""
    actions = ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys"]
    actions.append("iam:UpdateAccessKey")
    # moto matches IAM actions against the resource "*" only; it has no other user to reach.
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def principals(s: S3Settings) -> list[tuple[str, str, str, str]]:
    """(IAM user, prefix of its key's secret names, policy name, policy) of every principal the
    store is provisioned with: the app (its bucket), the rotator (the app's keys only) and,
    with a backup bucket, the archiver (that bucket only: the app's key cannot read backups)."""
    found = [
        (APP_USER, "", "video-bucket", bucket_policy(s.bucket)),
        (ROTATOR_USER, "rotator_", "rotate-app-keys", rotator_policy()),
    ]
    if s.backup_bucket:
        found.append(
            (BACKUP_USER, "backup_", f"{s.backup_bucket}-bucket", bucket_policy(s.backup_bucket))
        )
    if s.tenant_admin:
        found.append(
            (TENANT_ADMIN_USER, "tenant_admin_", "review-tenants", tenant_policy(s.bucket))
        )
    return found


def tenant_policy(bucket: str) -> str:
    """The tenant admin's policy: review stacks' buckets (`<bucket>-pr-<N>`, review/settings.py;
    never `bucket` itself) and IAM users. moto matches IAM actions against the resource "*"
    only, so its IAM reach is the store's."""
    tenants = f"arn:aws:s3:::{bucket}*-pr-*"
    statements = [
        {"Effect": "Allow", "Action": "s3:*", "Resource": [tenants, f"{tenants}/*"]},
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def bucket_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )
