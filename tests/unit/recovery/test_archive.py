"""The backup bucket read by the drill (recovery/archive_reader.py) and pruned by the archiver
(components/local/backup_daemon.py `apply_retention`), against moto's in-process S3
(`moto.mock_aws`, its public API)."""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components.local import backup_layout as layout
from components.local.backup_retention import apply_retention
from recovery.archive_reader import Archive, Feeder
from recovery.errors import DrillFailed

BUCKET = "backups"


@pytest.fixture
def archive() -> Iterator[Archive]:
    from moto import mock_aws

    with mock_aws():
        backup = {
            "endpoint": None,
            "region": "us-east-1",
            "access_key_id": "k",
            "secret_access_key": "s",
            "bucket": BUCKET,
        }
        found = Archive(backup)
        found.s3.create_bucket(Bucket=BUCKET)
        yield found


def put_backup(archive: Archive, backup_id: str, start: str, started: datetime) -> None:
    info = layout.BackupInfo(
        id=backup_id,
        started=started.isoformat(),
        finished=(started + timedelta(seconds=5)).isoformat(),
        start_segment=start,
        files={
            n: {"size": 1, "sha256": hashlib.sha256(b"x").hexdigest()} for n in layout.BASE_FILES
        },
    )
    for name in layout.BASE_FILES:
        archive.s3.put_object(Bucket=BUCKET, Key=layout.base_key(backup_id, name), Body=b"x")
    archive.s3.put_object(
        Bucket=BUCKET, Key=layout.base_key(backup_id, layout.INFO), Body=info.to_json().encode()
    )


def put_wal(archive: Archive, *names: str) -> None:
    for name in names:
        body = gzip.compress(name.encode())
        archive.s3.put_object(Bucket=BUCKET, Key=layout.wal_key(name), Body=body)


def seg(n: int, timeline: int = 1) -> str:
    return layout.segment_name(timeline, n)


def test_segment_names_follow_postgres() -> None:
    assert seg(0x102) == "000000010000000100000002"
    assert layout.segment_number("000000020000000100000002") == 0x102
    manifest: dict[str, Any] = {"WAL-Ranges": [{"Timeline": 2, "Start-LSN": "1/3000028"}]}
    assert layout.start_segment(manifest) == "000000020000000100000003"


def test_the_plan_runs_from_the_backup_to_past_time(archive: Archive) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    put_backup(archive, "20261204T000000Z", seg(2), start)
    put_wal(archive, seg(1), seg(2), seg(3), seg(4), "00000002.history")
    info = archive.base_backup_before(datetime.now(UTC))
    plan = archive.wal_plan(info, datetime.now(UTC) - timedelta(minutes=1))
    assert plan.segments == [seg(2), seg(3), seg(4)]  # never the one before the backup
    assert plan.histories == ["00000002.history"]


def test_a_gap_names_the_missing_segment(archive: Archive) -> None:
    put_backup(archive, "20261204T000000Z", seg(2), datetime.now(UTC) - timedelta(minutes=5))
    put_wal(archive, seg(2))
    time.sleep(1.1)  # S3 times have a second's resolution
    target = datetime.now(UTC)
    time.sleep(1.1)
    put_wal(archive, seg(4), seg(5))  # the segment covering TIME (4) comes after a gap
    info = archive.base_backup_before(target)
    with pytest.raises(DrillFailed, match=f"WAL segment s3://{BUCKET}/wal/{seg(3)}.gz is missing"):
        archive.wal_plan(info, target)


def test_time_not_archived_yet_is_said(archive: Archive) -> None:
    put_backup(archive, "20261204T000000Z", seg(2), datetime.now(UTC) - timedelta(minutes=5))
    put_wal(archive, seg(2))
    info = archive.base_backup_before(datetime.now(UTC))
    with pytest.raises(DrillFailed, match="is not archived yet"):
        archive.wal_plan(info, datetime.now(UTC) + timedelta(minutes=1))


def test_no_backup_before_time_is_said(archive: Archive) -> None:
    put_backup(archive, "20261204T000000Z", seg(2), datetime.now(UTC))
    with pytest.raises(DrillFailed, match="no complete base backup"):
        archive.base_backup_before(datetime.now(UTC) - timedelta(hours=1))


def test_a_damaged_base_file_is_named(archive: Archive, tmp_path: Path) -> None:
    put_backup(archive, "20261204T000000Z", seg(2), datetime.now(UTC) - timedelta(minutes=5))
    info = archive.base_backup_before(datetime.now(UTC))
    archive.download_base(info, tmp_path)  # intact: no error
    archive.s3.put_object(Bucket=BUCKET, Key=layout.base_key(info.id, "base.tar.gz"), Body=b"y")
    with pytest.raises(DrillFailed, match=r"base/20261204T000000Z/base.tar.gz is damaged"):
        archive.download_base(info, tmp_path)


def test_the_feeder_keeps_a_window_and_ends(archive: Archive, tmp_path: Path) -> None:
    put_backup(archive, "20261204T000000Z", seg(2), datetime.now(UTC) - timedelta(minutes=5))
    put_wal(archive, *(seg(n) for n in range(2, 14)))
    info = archive.base_backup_before(datetime.now(UTC))
    plan = archive.wal_plan(info, datetime.now(UTC) - timedelta(minutes=1))
    feeder = Feeder(archive, plan, tmp_path, (-1, -1))
    feeder.start()
    seen: list[str] = []
    while feeder.is_alive() or any(p.name != "END" for p in tmp_path.iterdir()):
        ready = sorted(p for p in tmp_path.iterdir() if layout.SEGMENT.match(p.name))
        assert len(ready) <= 8
        for path in ready:  # the server consumes them in order, as restore.sh does
            seen.append(path.name)
            assert path.read_bytes() == path.name.encode()
            path.unlink()
    assert (tmp_path / "END").exists() and feeder.error is None
    assert seen == plan.segments


def test_retention_keeps_the_newest_and_the_recent(archive: Archive) -> None:
    now = datetime.now(UTC)
    put_backup(archive, "20261101T000000Z", seg(2), now - timedelta(days=30))
    put_backup(archive, "20261102T000000Z", seg(4), now - timedelta(days=29))
    put_backup(archive, "20261203T000000Z", seg(6), now - timedelta(days=1))
    put_wal(archive, *(seg(n) for n in range(1, 8)), "00000002.history")
    archive.s3.put_object(Bucket=BUCKET, Key="base/20261101T120000Z/base.tar.gz", Body=b"x")
    cfg = {"retention_days": 7, "base_backups_kept": 2}
    removed = apply_retention(archive.s3, BUCKET, cfg, now)
    left = {i["Key"] for i in archive.listed("")}
    assert all(k.startswith("base/20261101T") for k in removed if k.startswith("base/"))
    assert layout.base_key("20261102T000000Z", layout.INFO) in left  # the 2 newest stay
    assert layout.wal_key(seg(3)) not in left and layout.wal_key(seg(4)) in left
    assert layout.wal_key("00000002.history") in left  # history is never pruned
