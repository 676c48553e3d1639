"""Which backups the archiver keeps (components/local/backup_daemon.py): every complete base
backup in the bucket, and retention over them and their WAL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from components.local import backup_layout as layout


def complete_backups(s3: Any, bucket: str) -> list[layout.BackupInfo]:
    """Every complete base backup in the bucket, oldest first."""
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=layout.BASE_PREFIX
    ):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/" + layout.INFO):
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                found.append(layout.BackupInfo.from_json(body))
    return sorted(found, key=lambda info: info.id)


def apply_retention(s3: Any, bucket: str, cfg: dict[str, Any], now: datetime) -> list[str]:
    """Delete base backups beyond both limits (the newest `base_backups_kept` and those younger
    than `retention_days` stay), incomplete ones, and WAL older than the oldest kept backup
    needs. Returns the keys removed."""
    backups = complete_backups(s3, bucket)
    if not backups:
        return []
    horizon = now - timedelta(days=cfg["retention_days"])
    keep = {b.id for b in backups[-cfg["base_backups_kept"] :]}
    keep |= {b.id for b in backups if datetime.fromisoformat(b.started) >= horizon}
    oldest = min((b for b in backups if b.id in keep), key=lambda b: b.id)
    floor = layout.segment_number(oldest.start_segment)
    doomed = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            key = item["Key"]
            name = layout.segment_of(key)
            if key.startswith(layout.BASE_PREFIX):
                backup = key.split("/")[1]
                if backup not in keep and backup < max(keep):  # never one being written now
                    doomed.append(key)
            elif (
                layout.SEGMENT.match(name[:24])
                and not layout.HISTORY.match(name)
                and layout.segment_number(name) < floor
            ):
                doomed.append(key)
    for key in doomed:
        s3.delete_object(Bucket=bucket, Key=key)
    return doomed
