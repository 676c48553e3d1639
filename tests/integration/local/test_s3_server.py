"""S3Server's provider against a real moto server: IAM auth, private bucket, crash and restart
(objects kept by the store's snapshot, new keys)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from components.local import ownership, processes
from components.local.s3_server import S3Provider
from devtools.ports import free_port
from tests.integration.local.conftest import files_containing, kill_hard

BUCKET, REGION = "mentora-videos", "eu-west-1"


def _s3(outs: dict[str, Any], key: str | None = None, secret: str | None = None) -> Any:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    anonymous = key is None
    return boto3.client(
        "s3",
        endpoint_url=outs["endpoint"],
        region_name=REGION,
        aws_access_key_id=key or "unused",
        aws_secret_access_key=secret or "unused",
        config=Config(
            signature_version=UNSIGNED if anonymous else None, retries={"max_attempts": 1}
        ),
    )


def _status(call: Any) -> int:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as err:
        call()
    return int(err.value.response["ResponseMetadata"]["HTTPStatusCode"])


def test_lifecycle_enforces_auth_and_issues_new_keys_on_restart(state_dir: Path) -> None:
    import httpx

    provider, port = S3Provider(), free_port()
    data_dir = state_dir / "s3"
    props = {"port": port, "data_dir": str(data_dir), "bucket": BUCKET, "region": REGION}
    started = time.monotonic()
    outs = provider.create(props).outs
    print(f"s3 create took {time.monotonic() - started:.2f}s")
    assert outs is not None and outs["endpoint"] == f"http://127.0.0.1:{port}"
    assert (outs["bucket"], outs["region"], outs["running"]) == (BUCKET, REGION, True)

    owner = _s3(outs, outs["access_key_id"], outs["secret_access_key"])
    owner.put_object(Bucket=BUCKET, Key="v/1.mp4", Body=b"frames")
    assert owner.get_object(Bucket=BUCKET, Key="v/1.mp4")["Body"].read() == b"frames"
    assert [o["Key"] for o in owner.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["v/1.mp4"]
    block = owner.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    other = {"LocationConstraint": REGION}
    assert (
        _status(lambda: owner.create_bucket(Bucket="other", CreateBucketConfiguration=other)) == 403
    )

    anonymous = _s3(outs)
    assert _status(lambda: anonymous.get_object(Bucket=BUCKET, Key="v/1.mp4")) == 403
    assert _status(lambda: anonymous.list_objects_v2(Bucket=BUCKET)) == 403
    wrong = _s3(outs, "AKIAWRONGWRONGWRONG", "wrong")
    assert _status(lambda: wrong.list_objects_v2(Bucket=BUCKET)) == 403
    forged = _s3(outs, outs["access_key_id"], "not-the-secret")
    assert _status(lambda: forged.get_object(Bucket=BUCKET, Key="v/1.mp4")) == 403
    # moto's control API would dump every key or switch auth off: closed.
    assert httpx.get(f"{outs['endpoint']}/moto-api/data.json").status_code == 403
    assert httpx.post(f"{outs['endpoint']}/moto-api/reset-auth", content=b"inf").status_code == 403

    kill_hard(processes.read_pid(data_dir / "moto.pid"))
    read = provider.read(f"s3-{port}", outs)
    assert read.outs is not None and read.outs["running"] is False
    diff = provider.diff(read.id or "", read.outs, props)
    assert (diff.changes, diff.replaces) == (True, [])

    started = time.monotonic()
    updated = provider.update(read.id or "", read.outs, props).outs
    print(f"s3 restart took {time.monotonic() - started:.2f}s")
    assert updated is not None and updated["access_key_id"] != outs["access_key_id"]
    fresh = _s3(updated, updated["access_key_id"], updated["secret_access_key"])
    # The objects survive the crash (the store's snapshot), the bucket stays private.
    assert fresh.get_object(Bucket=BUCKET, Key="v/1.mp4")["Body"].read() == b"frames"
    assert fresh.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert _status(lambda: anonymous.get_object(Bucket=BUCKET, Key="v/1.mp4")) == 403
    assert files_containing(state_dir, updated["secret_access_key"]) == []  # IAM is not saved
    assert _status(lambda: owner.list_objects_v2(Bucket=BUCKET)) == 403  # old key is gone

    pid = processes.read_pid(data_dir / "moto.pid")
    provider.delete(f"s3-{port}", updated)
    assert not ownership.pid_alive(pid)
    assert not processes.port_open(port)
    assert not data_dir.exists()
