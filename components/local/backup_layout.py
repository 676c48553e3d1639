"""The backup bucket's layout: the one contract between the archiver that writes it
(components/local/backup_daemon.py), the drill and restore that read it (recovery/) and smoke's
freshness check (smoke/checks/backups.py, which repeats the three names it needs: smoke imports
no component; tests/unit/smoke/test_backups_layout.py compares them). Standard library only.

```
wal/<segment or .history file>.gz          one archived WAL file, gzip
base/<backup id>/base.tar.gz               pg_basebackup -Ft -z -X fetch (the WAL it needs inside)
base/<backup id>/backup_manifest           PostgreSQL's manifest (pg_verifybackup checks it)
base/<backup id>/info.json                 written last: the backup is complete when it exists
```

A backup id sorts by time (`20261204T231500Z`). `info.json` holds the start and end time, the
first WAL segment the backup needs, and the size and SHA-256 of each file, so a damaged object is
named before any server reads it.

>>> wal_key("000000010000000000000003")
'wal/000000010000000000000003.gz'
>>> segment_of("wal/000000010000000000000003.gz")
'000000010000000000000003'
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

WAL_PREFIX = "wal/"
BASE_PREFIX = "base/"
INFO = "info.json"
BASE_FILES = ("base.tar.gz", "backup_manifest")
SEGMENT = re.compile(r"^[0-9A-F]{24}$")
HISTORY = re.compile(r"^[0-9A-F]{8}\.history$")


def wal_key(name: str) -> str:
    """The object key of an archived WAL file."""
    return f"{WAL_PREFIX}{name}.gz"


def segment_of(key: str) -> str:
    """The WAL file name an object key holds ('' when it is not a WAL object)."""
    if not key.startswith(WAL_PREFIX) or not key.endswith(".gz"):
        return ""
    return key[len(WAL_PREFIX) : -3]


def backup_id(at: datetime) -> str:
    """A base backup's id: its start time, UTC, sorting by time."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def base_key(backup: str, name: str) -> str:
    return f"{BASE_PREFIX}{backup}/{name}"


def segment_number(name: str) -> int:
    """The position of a segment in the WAL stream (log * 256 + seg, for 16 MB segments),
    whatever its timeline."""
    return int(name[8:16], 16) * 0x100 + int(name[16:24], 16)


def segment_name(timeline: int, number: int) -> str:
    return f"{timeline:08X}{number // 0x100:08X}{number % 0x100:08X}"


@dataclass(frozen=True)
class BackupInfo:
    """A complete base backup, as its `info.json` records it."""

    id: str
    started: str
    """ISO time the backup started (UTC); recovery can reach no earlier point."""
    finished: str
    """ISO time it ended: the earliest recovery target it can reach consistently."""
    start_segment: str
    """The first WAL segment it needs (by name, with its timeline)."""
    files: dict[str, dict[str, object]] = field(default_factory=dict)
    """name -> {"size": bytes, "sha256": hex}."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> BackupInfo:
        raw = json.loads(text)
        return cls(
            id=str(raw["id"]),
            started=str(raw["started"]),
            finished=str(raw["finished"]),
            start_segment=str(raw["start_segment"]),
            files={str(k): dict(v) for k, v in raw.get("files", {}).items()},
        )

    @property
    def finished_at(self) -> datetime:
        return datetime.fromisoformat(self.finished)


def start_segment(manifest: dict[str, object]) -> str:
    """The first WAL segment a backup needs, from its manifest's `WAL-Ranges`.

    >>> start_segment({"WAL-Ranges": [{"Timeline": 1, "Start-LSN": "0/2000028"}]})
    '000000010000000000000002'
    """
    ranges = manifest["WAL-Ranges"]
    assert isinstance(ranges, list) and ranges
    first = ranges[0]
    high, low = (int(part, 16) for part in str(first["Start-LSN"]).split("/"))
    lsn = (high << 32) | low
    return segment_name(int(first["Timeline"]), lsn // (16 * 1024 * 1024))
