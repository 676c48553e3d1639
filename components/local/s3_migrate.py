"""Moves of a local S3 store from earlier formats to its journal and object files
(s3_journal.py): from a whole-store pickle (`buckets.pickle`), by hand, and from the program
before either, whose store kept its objects in its process's memory only (`memory_only`).

The store itself never loads a pickle (loading one runs the code inside it): it refuses to start
while `buckets.pickle` is in its data dir. Run this only on a file our own store wrote:

    python -m components.local.s3_migrate .pulumi-local/servers/s3

The pickle is renamed `buckets.pickle.migrated` once every bucket and object is in the journal.
"""

from __future__ import annotations

import pickle  # noqa: S403 - the operator vouches for the file (see the docstring)
import sys
from pathlib import Path
from typing import Any

from components.local.s3_journal import JOURNAL, LEGACY_SNAPSHOT, OBJECTS, ObjectJournal
from components.local.s3_moto import object_keys


def memory_only(data_dir: Path) -> bool:
    """Whether `data_dir` is a store of the program before files (no journal, no object folder,
    no pickle): whatever it holds lives in its running process alone."""
    return data_dir.is_dir() and not any(
        (data_dir / name).exists() for name in (JOURNAL, OBJECTS, LEGACY_SNAPSHOT)
    )


def held_in_memory(s3: Any, bucket: str) -> int | None:
    """How many objects a memory-only store's `bucket` holds, read with `s3` (the app's key);
    None when it does not answer (a stopped store has lost them already). Counted up to 1000."""
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    try:
        return int(s3.list_objects_v2(Bucket=bucket, MaxKeys=1000).get("KeyCount", 0))
    except (BotoCoreError, ClientError):
        return None


def memory_loss(data_dir: Path, s3: Any, bucket: str) -> str:
    """What a restart of the store of `data_dir` would lose ("" for nothing): the objects of a
    memory-only store that answers."""
    count = held_in_memory(s3, bucket) if memory_only(data_dir) else None
    if not count:
        return ""
    more = " or more" if count >= 1000 else ""
    return (
        f"{count}{more} object(s) of bucket {bucket}, held only in the memory of the running "
        f"store ({data_dir / JOURNAL} does not exist)"
    )


def start_journal(data_dir: Path, s3: Any, bucket: str) -> None:
    """Give a memory-only store that answers with an empty bucket an empty journal to start
    from. A store that does not answer gets none: its start then refuses, naming the lost
    journal (it may be a store of ours whose files were deleted)."""
    if memory_only(data_dir) and held_in_memory(s3, bucket) == 0:
        ObjectJournal(data_dir).path.touch(mode=0o600)


def migrate(data_dir: Path) -> tuple[int, int]:
    """Move `data_dir`'s pickle into a new journal; returns (buckets, objects) moved."""
    from moto.s3.models import s3_backends

    legacy = data_dir / LEGACY_SNAPSHOT
    if not legacy.is_file():
        raise SystemExit(f"storage: {legacy} does not exist: nothing to migrate")
    if (data_dir / JOURNAL).exists():
        raise SystemExit(
            f"storage: {data_dir / JOURNAL} already exists: the store was written in the new "
            f"format since; move {legacy} aside instead of migrating it"
        )
    journal = ObjectJournal(data_dir)
    journal.path.touch(mode=0o600)  # the store's start refuses a data dir without a journal
    journal.replay()  # an empty store: creates the object folders
    saved = pickle.loads(legacy.read_bytes())  # noqa: S301 - see the module docstring
    for account, (buckets, tagger) in saved["accounts"].items():
        backend = s3_backends[account]["global"]
        backend.buckets.update(buckets)
        backend.tagger = tagger
    s3_backends.bucket_accounts.update(saved["bucket_accounts"])
    names = [name for buckets, _ in saved["accounts"].values() for name in buckets]
    moved = 0
    for name in names:
        journal.sync_bucket(name)
        for key in sorted(object_keys(name)):
            journal.sync_object(name, key)
            moved += 1
    legacy.rename(legacy.with_name(f"{LEGACY_SNAPSHOT}.migrated"))
    return len(names), moved


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m components.local.s3_migrate DATA_DIR")
    buckets, objects = migrate(Path(sys.argv[1]))
    print(f"storage: {buckets} bucket(s), {objects} object(s) moved into {JOURNAL}")
