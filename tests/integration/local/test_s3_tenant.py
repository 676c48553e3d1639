"""S3Tenant's provider against a real store (a base stack's): two review stacks' buckets side by
side, each key refused on every bucket but its own, the base's included; after the store
restarts (IAM is not kept) a refresh sees the tenant gone and the next create gives it a new key
with its objects kept; delete leaves no bucket or user."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.local import processes
from components.local.s3_server import S3Provider
from components.local.s3_tenant import S3TenantProvider, Store, tenant_user
from devtools.ports import free_port
from tests.integration.local.conftest import kill_hard

REGION = "us-east-1"


def _s3(endpoint: str, key: str, secret: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key,
        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


def _denied(call: Any) -> int:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as err:
        call()
    return int(err.value.response["ResponseMetadata"]["HTTPStatusCode"])


def test_tenants_reach_only_their_own_bucket_and_survive_a_store_restart(
    state_dir: Path,
) -> None:
    store, port = S3Provider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "s3"), "bucket": "mentora-videos",
             "region": REGION}  # fmt: skip
    base = store.create(props).outs
    assert base is not None
    admin = {"admin_key_id": base["tenant_admin_access_key_id"],
             "admin_secret": base["tenant_admin_secret_access_key"]}  # fmt: skip
    provider, made = S3TenantProvider(), {}
    for pr in (1, 2):
        tenant = {"endpoint": base["endpoint"], "region": REGION, **admin,
                  "bucket": f"mentora-videos-pr-{pr}", "user": tenant_user(f"pr-{pr}")}  # fmt: skip
        made[pr] = provider.create(tenant).outs
    one, two = made[1], made[2]
    mine = _s3(base["endpoint"], one["access_key_id"], one["secret_access_key"])
    mine.put_object(Bucket=one["bucket"], Key="lesson.mp4", Body=b"video")
    for other in (two["bucket"], "mentora-videos"):
        assert _denied(lambda b=other: mine.list_objects_v2(Bucket=b)) == 403
    base_app = _s3(base["endpoint"], base["access_key_id"], base["secret_access_key"])
    assert _denied(lambda: base_app.list_objects_v2(Bucket=one["bucket"])) == 403
    # The tenant admin cannot read the base's own bucket either.
    admin_s3 = _s3(base["endpoint"], admin["admin_key_id"], admin["admin_secret"])
    assert _denied(lambda: admin_s3.list_objects_v2(Bucket="mentora-videos")) == 403

    # The base's store crashes and restarts: IAM is gone, objects are not.
    kill_hard(processes.read_pid(state_dir / "s3" / "moto.pid"))
    restarted = store.update("s3", {**base, "running": False}, props).outs
    assert restarted is not None
    assert provider.read("pr-1", one).id == ""  # its key no longer works: gone, made again
    admin = {"admin_key_id": restarted["tenant_admin_access_key_id"],
             "admin_secret": restarted["tenant_admin_secret_access_key"]}  # fmt: skip
    again = provider.create({**{k: one[k] for k in ("endpoint", "region", "bucket", "user")},
                             **admin}).outs  # fmt: skip
    assert again is not None and again["access_key_id"] != one["access_key_id"]
    mine = _s3(base["endpoint"], again["access_key_id"], again["secret_access_key"])
    assert mine.get_object(Bucket=one["bucket"], Key="lesson.mp4")["Body"].read() == b"video"

    # The base's store moved (a new address, its objects with it): an update made there.
    moved = {**again, **admin, "endpoint": base["endpoint"].replace("127.0.0.1", "localhost")}
    diff = provider.diff("pr-1", {**again, **admin}, moved)
    assert diff.changes and not diff.replaces
    at_new = provider.update("pr-1", {**again, **admin}, moved).outs
    assert at_new is not None and at_new["access_key_id"] != again["access_key_id"]
    mine = _s3(moved["endpoint"], at_new["access_key_id"], at_new["secret_access_key"])
    assert mine.get_object(Bucket=one["bucket"], Key="lesson.mp4")["Body"].read() == b"video"
    again = at_new

    # Delete: no bucket, no user.
    view = Store(base["endpoint"], REGION, admin["admin_key_id"], admin["admin_secret"])
    provider.delete("pr-1", {**again, **admin})
    assert view.present(one["bucket"], one["user"]) == []
    assert view.present(two["bucket"], two["user"]) == ["bucket mentora-videos-pr-2"]  # IAM lost
    store.delete("s3", restarted)
