"""Reading the backup bucket: the base backup to start from, its files checked against
`info.json`, the WAL it needs (every segment present, or the missing one named) and a feeder that
hands segments to a recovering server a few at a time (a day of 16 MB segments would not fit a
scratch folder at once).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from components.local import backup_layout as layout
from recovery.errors import DrillFailed

WINDOW = 8  # decompressed segments waiting for the server at most (8 x 16 MB)
EXTRA_SEGMENTS = 2  # past the first one archived after TIME: LastModified is coarse
RESOLUTION = timedelta(seconds=1)  # S3 LastModified is whole seconds: 20.9 s reads as 20 s


def client(backup: dict[str, Any]) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    return boto3.client(
        "s3",
        endpoint_url=backup["endpoint"],
        region_name=backup["region"],
        aws_access_key_id=backup["access_key_id"],
        aws_secret_access_key=backup["secret_access_key"],
        config=Config(connect_timeout=3, read_timeout=60, retries={"max_attempts": 2}),
    )


@dataclass(frozen=True)
class WalPlan:
    """The WAL files a recovery to TIME reads, in order (history files first)."""

    histories: list[str]
    segments: list[str]
    newest_at: datetime
    """When the newest archived WAL file arrived (the recovery point's age is measured from it)."""


class Archive:
    """One stack's backup bucket, read with the archiver's key."""

    def __init__(self, backup: dict[str, Any]) -> None:
        self.s3 = client(backup)
        self.bucket = str(backup["bucket"])

    def where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def listed(self, prefix: str) -> list[dict[str, Any]]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [item for page in pages for item in page.get("Contents", [])]

    def base_backup_before(self, target: datetime) -> layout.BackupInfo:
        """The newest complete base backup that ended before `target`."""
        infos = []
        for item in self.listed(layout.BASE_PREFIX):
            if item["Key"].endswith("/" + layout.INFO):
                body = self.s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                infos.append(layout.BackupInfo.from_json(body))
        usable = [i for i in infos if i.finished_at < target]
        if not usable:
            oldest = min((i.finished for i in infos), default="none")
            raise DrillFailed(
                f"no complete base backup in {self.where(layout.BASE_PREFIX)} ended before "
                f"{target.isoformat()} (oldest ended: {oldest}); pick a later TIME, or take one "
                "with `curl -X POST <archiver>/base-backup`"
            )
        return max(usable, key=lambda i: i.id)

    def download_base(self, info: layout.BackupInfo, dest: Path) -> None:
        """Its files into `dest`, each checked against the size and SHA-256 in `info.json`."""
        for name in layout.BASE_FILES:
            key = layout.base_key(info.id, name)
            path = dest / name
            try:
                self.s3.download_file(self.bucket, key, str(path))
            except Exception as exc:
                raise DrillFailed(f"{self.where(key)} cannot be read: {exc}") from None
            want = info.files.get(name, {})
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if path.stat().st_size != want.get("size") or digest != want.get("sha256"):
                raise DrillFailed(
                    f"{self.where(key)} is damaged: its size or SHA-256 differs from "
                    f"{layout.base_key(info.id, layout.INFO)}"
                )

    def wal_plan(self, info: layout.BackupInfo, target: datetime) -> WalPlan:
        """Every WAL segment from the backup's start to just past `target`; DrillFailed naming
        the first missing one, or saying TIME is not archived yet."""
        items = self.listed(layout.WAL_PREFIX)
        if not items:
            raise DrillFailed(f"no WAL in {self.where(layout.WAL_PREFIX)}")
        histories = [n for i in items if layout.HISTORY.match(n := layout.segment_of(i["Key"]))]
        segments: dict[int, list[tuple[str, datetime]]] = {}
        start = layout.segment_number(info.start_segment)
        for item in items:
            name = layout.segment_of(item["Key"])
            if layout.SEGMENT.match(name) and layout.segment_number(name) >= start:
                segments.setdefault(layout.segment_number(name), []).append(
                    (name, item["LastModified"])
                )
        newest = max(i["LastModified"] for i in items)
        after = sorted(
            n for n, v in segments.items() if any(at + RESOLUTION > target for _, at in v)
        )
        if not after:
            raise DrillFailed(
                f"the WAL covering {target.isoformat()} is not archived yet (newest WAL arrived "
                f"{newest.isoformat()}); wait archive_timeout seconds and run the drill again"
            )
        last = min(after) + EXTRA_SEGMENTS
        plan = []
        for number in range(start, last + 1):
            if number not in segments:
                if number > min(after):
                    break  # past TIME: the recovery stops before it needs this one
                timeline = int(info.start_segment[:8], 16)
                missing = layout.wal_key(layout.segment_name(timeline, number))
                raise DrillFailed(
                    f"WAL segment {self.where(missing)} is missing (needed between base backup "
                    f"{info.id} and {target.isoformat()}): the archive has a gap; recovery to "
                    "TIME is impossible from this backup"
                )
            plan += [name for name, _ in sorted(segments[number])]
        return WalPlan(sorted(histories), plan, newest)

    def fetch(self, name: str, dest: Path, owner: tuple[int, int] = (-1, -1)) -> None:
        """One WAL file, decompressed, written whole (rename) into `dest`, owned by `owner`
        (uid, gid; -1: unchanged) before the server can see it."""
        key = layout.wal_key(name)
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        try:
            data = gzip.decompress(body)
        except (OSError, EOFError) as exc:
            raise DrillFailed(f"{self.where(key)} is damaged: {exc}") from None
        tmp = dest / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.chmod(0o644)
        if owner[0] >= 0:
            os.chown(tmp, *owner)
        tmp.rename(dest / name)


# How long `halt` waits for the feeder's last write: a local fetch takes milliseconds; a hung
# store is not waited out (a file it writes later may then keep the drill's temp folder).
HALT_TIMEOUT_S = 10.0


class Feeder(threading.Thread):
    """Writes the plan's WAL files into the folder the server's `restore_command` takes them
    from, at most WINDOW at a time, then an `END` file; stops when `stop` is set."""

    def __init__(self, archive: Archive, plan: WalPlan, dest: Path, owner: tuple[int, int]) -> None:
        super().__init__(daemon=True, name="wal-feeder")
        self.archive, self.plan, self.dest, self.owner = archive, plan, dest, owner
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.fed = 0

    def _give(self, name: str) -> None:
        self.archive.fetch(name, self.dest, self.owner)

    def run(self) -> None:
        try:
            for name in self.plan.histories:
                self._give(name)
            for name in self.plan.segments:
                while sum(1 for p in self.dest.iterdir() if layout.SEGMENT.match(p.name)) >= WINDOW:
                    if self.stop.wait(0.05):
                        return
                if self.stop.is_set():
                    return
                self._give(name)
                self.fed += 1
        except BaseException as exc:  # reported by the drill, which is waiting on the server
            self.error = exc
        finally:
            if not self.stop.is_set():  # stopped: its folder may be being removed
                (self.dest / "END").touch()

    def halt(self, timeout_s: float = HALT_TIMEOUT_S) -> None:
        """Stop feeding and wait (bounded: one fetch has its own timeouts) until no file is
        being written, so the caller may remove the folder."""
        self.stop.set()
        if self.is_alive():
            self.join(timeout_s)
