"""`rotate <cloud stack> storage` against IAM's and STS's published contracts: botocore's
`Stubber` checks every request against the service models shipped with botocore
(iam/2010-05-08/service-2.json: ListAccessKeys, CreateAccessKey, UpdateAccessKey,
DeleteAccessKey; sts/2011-06-15/service-2.json: GetCallerIdentity, whose refusal of an unknown
or inactive key is `InvalidClientTokenId`, STS API reference "Common Errors")."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.stub import Stubber  # type: ignore[import-untyped]

from gate.exitcodes import Exit
from rotation import cloud_driver, cloud_storage
from rotation.journal import Journal
from tests.unit.rotation.cloud_fakes import NEW, NEW_SECRET, OLD, OLD_SECRET, USER, Backend


def test_a_rotation_speaks_iam_and_sts_as_their_published_models_say(tmp_path: Path) -> None:
    backend = Backend(OLD, OLD_SECRET)
    iam = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    stubs = {"iam": Stubber(iam)}
    stses: dict[str, Any] = {}
    for key_id in (OLD, NEW):
        stses[key_id] = boto3.client(
            "sts", region_name="us-east-1", aws_access_key_id=key_id, aws_secret_access_key="z"
        )
        stubs[key_id] = Stubber(stses[key_id])
    now = datetime.datetime.now(datetime.UTC)
    old_meta = {
        "UserName": USER,
        "AccessKeyId": OLD,
        "Status": "Active",
        "CreateDate": now - datetime.timedelta(days=90),
    }
    new_meta = {"UserName": USER, "AccessKeyId": NEW, "Status": "Active", "CreateDate": now}
    stubs["iam"].add_response(
        "list_access_keys", {"AccessKeyMetadata": [old_meta]}, {"UserName": USER}
    )
    stubs["iam"].add_response(
        "create_access_key",
        {"AccessKey": {**new_meta, "SecretAccessKey": NEW_SECRET}},
        {"UserName": USER},
    )
    # IAM propagates a new key late: the first STS call with it is refused, the next accepted.
    stubs[NEW].add_client_error("get_caller_identity", "InvalidClientTokenId", http_status_code=403)
    identity = {
        "UserId": "AIDA0000000000000000",
        "Account": "123456789012",
        "Arn": f"arn:aws:iam::123456789012:user/mentora/{USER}",
    }
    stubs[NEW].add_response("get_caller_identity", identity, {})
    both = {"AccessKeyMetadata": [old_meta, new_meta]}
    stubs["iam"].add_response("list_access_keys", both, {"UserName": USER})
    stubs["iam"].add_response(
        "update_access_key", {}, {"UserName": USER, "AccessKeyId": OLD, "Status": "Inactive"}
    )
    stubs["iam"].add_response("delete_access_key", {}, {"UserName": USER, "AccessKeyId": OLD})
    stubs["iam"].add_response(
        "list_access_keys", {"AccessKeyMetadata": [new_meta]}, {"UserName": USER}
    )
    stubs[OLD].add_response("get_caller_identity", identity, {})  # still cached a moment
    stubs[OLD].add_client_error("get_caller_identity", "InvalidClientTokenId", http_status_code=403)

    seen_at_gate: list[tuple[tuple[str, str], str]] = []

    def gate() -> Exit:
        seen_at_gate.append((backend.key(), backend.env_value()))
        return Exit.GREEN

    said: list[str] = []
    kind = cloud_storage.StorageKey(
        iam=iam, sts_for=lambda key_id, _secret: stses[key_id], settle_s=5, sleep=lambda _s: None
    )
    run = cloud_driver.Run("dev", tmp_path, gate, said.append, backend.state, drain_s=0)
    for stub in stubs.values():
        stub.activate()
    code = cloud_driver.rotate(run, kind)
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    assert code == Exit.GREEN, said
    # The gate deployed with the state naming the new key, the Vercel variable still the old:
    # so its `up` writes the new key into the app's env.
    assert seen_at_gate == [((NEW, NEW_SECRET), OLD_SECRET)]
    assert backend.key() == (NEW, NEW_SECRET)
    derived = backend.document["deployment"]["resources"][0]["outputs"]
    assert "sesSmtpPasswordV4" not in derived  # derived from the old secret: dropped
    assert not Journal("dev", tmp_path).path.exists()
    text = "\n".join(said)
    assert OLD_SECRET not in text and NEW_SECRET not in text and OLD not in text
    assert "refuses the old key" in text
