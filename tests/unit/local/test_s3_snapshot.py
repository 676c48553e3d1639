"""The local S3 store's snapshot against moto's own in-process backend: what it saves comes
back, an unreadable file is kept aside, and only changing requests are saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.local.s3_snapshot import SNAPSHOT_FILE, BucketSnapshot

BUCKET = "mentora-videos"


@pytest.fixture
def s3() -> Iterator[Any]:
    import boto3  # type: ignore[import-untyped]
    from moto import mock_aws

    with mock_aws():
        client = boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        )
        client.create_bucket(Bucket=BUCKET)
        yield client


def _forget_every_bucket() -> None:
    """What a restart of the store's process does to moto's memory."""
    from moto.s3.models import s3_backends

    for account in list(s3_backends.keys()):
        s3_backends[account]["global"].buckets.clear()
    s3_backends.bucket_accounts.clear()


def test_saved_buckets_objects_and_settings_come_back(s3: Any, tmp_path: Path) -> None:
    s3.put_object(Bucket=BUCKET, Key="v/1.mp4", Body=b"frames", Tagging="lesson=1")
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    snapshot = BucketSnapshot(tmp_path)
    snapshot.save()
    assert (tmp_path / SNAPSHOT_FILE).stat().st_mode & 0o777 == 0o600
    _forget_every_bucket()
    assert s3.list_buckets()["Buckets"] == []

    assert snapshot.load() == 1
    assert s3.get_object(Bucket=BUCKET, Key="v/1.mp4")["Body"].read() == b"frames"
    tags = s3.get_object_tagging(Bucket=BUCKET, Key="v/1.mp4")["TagSet"]
    assert tags == [{"Key": "lesson", "Value": "1"}]
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_an_unreadable_snapshot_is_kept_aside_and_the_store_starts_empty(
    s3: Any, tmp_path: Path
) -> None:
    (tmp_path / SNAPSHOT_FILE).write_bytes(b"not a pickle")
    _forget_every_bucket()
    assert BucketSnapshot(tmp_path).load() == 0
    [aside] = tmp_path.glob(f"{SNAPSHOT_FILE}.unreadable-*")
    assert aside.read_bytes() == b"not a pickle"
    assert not (tmp_path / SNAPSHOT_FILE).exists()


def test_only_changing_requests_are_saved_before_they_are_answered(tmp_path: Path) -> None:
    snapshot = BucketSnapshot(tmp_path)
    saves: list[str] = []
    snapshot.save = lambda: saves.append("saved")  # type: ignore[method-assign]

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        return iter([environ["REQUEST_METHOD"].encode()])

    wrapped = snapshot.after_changes(app)
    for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        body = wrapped({"REQUEST_METHOD": method}, lambda *_: None)
        assert list(body) == [method.encode()]
    assert saves == ["saved"] * 3
