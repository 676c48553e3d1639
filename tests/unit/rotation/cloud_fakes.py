"""The stack's Pulumi backend and IAM, as a cloud storage rotation sees them (shared by
test_cloud_storage*.py)."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from rotation import cloud_storage
from rotation.state import StackState, secret, unwrap

USER = "mentora-dev-app"
OLD, OLD_SECRET = "AKIAOLDOLDOLDOLD0001", "o" * 40
NEW, NEW_SECRET = "AKIANEWNEWNEWNEW0002", "n" * 40
KEY_URN = (
    "urn:pulumi:dev::mentora::mentora:infra:Storage$aws:iam/accessKey:AccessKey::storage-app-key"
)
ENV_URN = (
    "urn:pulumi:dev::mentora::vercel:index/projectEnvironmentVariable:"
    "ProjectEnvironmentVariable::env-S3_SECRET_ACCESS_KEY"
)


def exported(key_id: str, key_secret: str) -> dict[str, Any]:
    key = {
        "urn": KEY_URN,
        "type": cloud_storage.TYPE,
        "custom": True,
        "id": key_id,
        "inputs": {"user": USER},
        "outputs": {
            "id": key_id,
            "user": USER,
            "secret": secret(key_secret),
            "status": "Active",
            "sesSmtpPasswordV4": secret("derived-from-the-secret"),
        },
    }
    env = {
        "urn": ENV_URN,
        "type": "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable",
        "inputs": {"key": "S3_SECRET_ACCESS_KEY", "value": secret(key_secret)},
        "outputs": {"key": "S3_SECRET_ACCESS_KEY", "value": secret(key_secret)},
    }
    return {"version": 3, "deployment": {"resources": [key, env]}}


class Backend:
    """Pulumi's backend for one stack: what `stack export` reads and `stack import` writes."""

    def __init__(self, key_id: str, key_secret: str) -> None:
        self.document = exported(key_id, key_secret)
        self.saves = 0
        self.killed_after_save = False
        """The process dies right after `pulumi stack import` wrote the state."""

    def state(self, stack: str, root: Path) -> StackState:
        backend = self

        class Stored(StackState):
            def load(self) -> StackState:
                self.document = copy.deepcopy(backend.document)
                return self

            def save(self) -> None:
                backend.document, backend.saves = copy.deepcopy(self.document), backend.saves + 1
                if backend.killed_after_save:
                    raise SystemExit("killed")

        return Stored(stack, root)

    def key(self) -> tuple[str, str]:
        resource = self.document["deployment"]["resources"][0]
        return resource["id"], unwrap(resource["outputs"]["secret"])

    def env_value(self) -> str:
        return str(unwrap(self.document["deployment"]["resources"][1]["outputs"]["value"]))


class Iam:
    """IAM as the rotation sees it: a user's keys, at most two, each Active or Inactive."""

    def __init__(self) -> None:
        old = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=90)
        self.keys: dict[str, dict[str, Any]] = {
            OLD: {"secret": OLD_SECRET, "Status": "Active", "CreateDate": old}
        }
        self.made = 0

    def list_access_keys(self, UserName: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        assert UserName == USER
        return {
            "AccessKeyMetadata": [
                {
                    "UserName": USER,
                    "AccessKeyId": k,
                    "Status": v["Status"],
                    "CreateDate": v["CreateDate"],
                }
                for k, v in self.keys.items()
            ]
        }

    def create_access_key(self, UserName: str) -> dict[str, Any]:  # noqa: N803
        assert UserName == USER and len(self.keys) < 2, "IAM allows two keys per user"
        self.made += 1
        key_id, key_secret = f"AKIAMADE{self.made:012d}", f"{self.made}" * 40
        self.keys[key_id] = {
            "secret": key_secret,
            "Status": "Active",
            "CreateDate": datetime.datetime.now(datetime.UTC),
        }
        return {
            "AccessKey": {
                "UserName": USER,
                "AccessKeyId": key_id,
                "SecretAccessKey": key_secret,
                "Status": "Active",
            }
        }

    def update_access_key(self, UserName: str, AccessKeyId: str, Status: str) -> None:  # noqa: N803
        self.keys[AccessKeyId]["Status"] = Status

    def delete_access_key(self, UserName: str, AccessKeyId: str) -> None:  # noqa: N803
        del self.keys[AccessKeyId]

    def works(self, key_id: str, key_secret: str) -> bool:
        key = self.keys.get(key_id)
        return key is not None and key["Status"] == "Active" and key["secret"] == key_secret

    def sts_for(self, key_id: str, key_secret: str) -> Any:
        iam = self

        class Sts:
            def get_caller_identity(self) -> dict[str, str]:
                if not iam.works(key_id, key_secret):
                    raise ClientError(
                        {"Error": {"Code": "InvalidClientTokenId"}}, "GetCallerIdentity"
                    )
                return {"Account": "123456789012"}

        return Sts()
