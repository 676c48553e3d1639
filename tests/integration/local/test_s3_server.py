"""S3Server's provider against a real moto server: IAM auth, private bucket, crash and restart
(objects kept by the store's snapshot, new keys)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from components.local import ownership, processes
from components.local.errors import LocalServerError
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


# -- the store's files: damage is refused, never served as an empty store --------------------
STORE_INDEX = "journal.jsonl"  # the file that says what the store holds


def _started_with_objects(state_dir: Path, count: int) -> tuple[S3Provider, dict[str, Any], Any]:
    provider, port = S3Provider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "s3"), "bucket": BUCKET, "region": REGION}
    outs = provider.create(props).outs
    assert outs is not None
    owner = _s3(outs, outs["access_key_id"], outs["secret_access_key"])
    for n in range(count):
        owner.put_object(Bucket=BUCKET, Key=f"v/{n}.mp4", Body=b"frames %d" % n)
    kill_hard(processes.read_pid(state_dir / "s3" / "moto.pid"))
    return provider, {**props, **outs}, owner


def test_a_truncated_store_fails_the_start_naming_the_file(state_dir: Path) -> None:
    provider, outs, _ = _started_with_objects(state_dir, 20)
    index = state_dir / "s3" / STORE_INDEX
    index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
    props = {k: outs[k] for k in ("port", "data_dir", "bucket", "region")}
    try:
        with pytest.raises(LocalServerError) as err:
            provider.update(f"s3-{outs['port']}", outs, props)
        assert str(index) in str(err.value)
    finally:
        pid = processes.read_pid(state_dir / "s3" / "moto.pid")
        if pid and ownership.pid_alive(pid):
            kill_hard(pid)


def test_a_planted_pickle_runs_no_code_when_the_store_starts(state_dir: Path) -> None:
    import pickle

    class Planted:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return (os.system, (f"touch {state_dir / 'pwned'}",))

    provider, outs, _ = _started_with_objects(state_dir, 1)
    planted = state_dir / "s3" / "buckets.pickle"  # the name the previous store loaded
    planted.write_bytes(pickle.dumps(Planted()))
    props = {k: outs[k] for k in ("port", "data_dir", "bucket", "region")}
    with pytest.raises(LocalServerError) as err:  # refused, named, never loaded
        provider.update(f"s3-{outs['port']}", outs, props)
    assert str(planted) in str(err.value)
    assert not (state_dir / "pwned").exists()
    planted.unlink()  # moved aside: the store starts with what its journal holds
    updated = provider.update(f"s3-{outs['port']}", outs, props).outs
    assert updated is not None
    fresh = _s3(updated, updated["access_key_id"], updated["secret_access_key"])
    assert fresh.get_object(Bucket=BUCKET, Key="v/0.mp4")["Body"].read() == b"frames 0"
    assert not (state_dir / "pwned").exists()
    provider.delete(f"s3-{outs['port']}", updated)


def test_acknowledged_objects_survive_kill_9_mid_stream(state_dir: Path) -> None:
    provider, outs, _ = _started_with_objects(state_dir, 50)
    props = {k: outs[k] for k in ("port", "data_dir", "bucket", "region")}
    updated = provider.update(f"s3-{outs['port']}", outs, props).outs
    assert updated is not None
    fresh = _s3(updated, updated["access_key_id"], updated["secret_access_key"])
    listed = fresh.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(f"v/{n}.mp4" for n in range(50))
    assert fresh.get_object(Bucket=BUCKET, Key="v/49.mp4")["Body"].read() == b"frames 49"
    provider.delete(f"s3-{outs['port']}", updated)


def test_a_store_whose_files_are_gone_is_refused_not_served_empty(state_dir: Path) -> None:
    import shutil

    provider, outs, _ = _started_with_objects(state_dir, 3)
    data_dir = state_dir / "s3"
    (data_dir / STORE_INDEX).unlink()  # the journal and every object file: all gone
    shutil.rmtree(data_dir / "objects")
    props = {k: outs[k] for k in ("port", "data_dir", "bucket", "region")}
    try:
        with pytest.raises(LocalServerError) as err:
            provider.update(f"s3-{outs['port']}", outs, props)
        assert str(data_dir / STORE_INDEX) in str(err.value)
    finally:
        pid = processes.read_pid(data_dir / "moto.pid")
        if pid and ownership.pid_alive(pid):
            kill_hard(pid)
