"""One-off move of a local S3 store from the previous format (`buckets.pickle`, a whole-store
pickle rewritten after every change) to its journal and object files (s3_journal.py).

The store itself never loads a pickle (loading one runs the code inside it): it refuses to start
while `buckets.pickle` is in its data dir. Run this only on a file our own store wrote:

    python -m components.local.s3_migrate .pulumi-local/servers/s3

The pickle is renamed `buckets.pickle.migrated` once every bucket and object is in the journal.
"""

from __future__ import annotations

import pickle  # noqa: S403 - the operator vouches for the file (see the docstring)
import sys
from pathlib import Path

from components.local.s3_journal import JOURNAL, LEGACY_SNAPSHOT, ObjectJournal
from components.local.s3_moto import object_keys


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
