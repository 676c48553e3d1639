"""The local S3 store's buckets and objects on disk, so they survive a crash and a restart.

moto keeps every bucket in memory. The store's process (components/local/s3_server.py `serve`)
loads this snapshot when it starts and writes it again after every request that may have changed
a bucket (PUT, POST, DELETE), before the client gets its answer: an object the store said it
stored survives `kill -9`. The file is written whole to a temporary name, fsynced and renamed
over the old one, so a crash mid-write leaves the previous snapshot intact. Each write re-saves
every object (moto has no change log): fine for a development store, slow with gigabytes in it.

IAM users and access keys are not saved (no secret on disk): every start issues a new key pair,
as before, and the restored bucket keeps its objects, policy and public access block.
"""

from __future__ import annotations

import logging
import os
import pickle  # noqa: S403 - our own file, in a 0700 folder only our servers write to
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SNAPSHOT_FILE = "buckets.pickle"  # inside the store's data dir
CHANGING_METHODS = frozenset({"PUT", "POST", "DELETE"})
_log = logging.getLogger(__name__)


def _backends() -> Any:
    from moto.s3.models import s3_backends

    return s3_backends


class BucketSnapshot:
    """Saves and loads every account's moto buckets (with `bucket_accounts`, moto's index of
    which account owns which bucket) to one file."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / SNAPSHOT_FILE
        self._lock = threading.Lock()

    def load(self) -> int:
        """Put the saved buckets back into moto; returns how many. A file that cannot be read is
        moved aside (named in the log), never deleted, and the store starts empty."""
        if not self.path.is_file():
            return 0
        try:
            saved = pickle.loads(self.path.read_bytes())  # noqa: S301 - see the import
            accounts, owners = saved["accounts"], saved["bucket_accounts"]
        except Exception as exc:  # a file from another moto version, a truncated disk
            aside = self.path.with_name(f"{SNAPSHOT_FILE}.unreadable-{int(time.time())}")
            self.path.rename(aside)
            _log.error("storage: could not load %s (%s); kept as %s", self.path, exc, aside.name)
            return 0
        backends = _backends()
        for account, (buckets, tagger) in accounts.items():
            backend = backends[account]["global"]
            backend.buckets.update(buckets)
            backend.tagger = tagger  # object and bucket tags
        backends.bucket_accounts.update(owners)
        return sum(len(buckets) for buckets, _ in accounts.values())

    def save(self) -> None:
        """Write every bucket now. Callers hold `_lock`: a change running while the buckets are
        pickled would break the pickling (the store serves requests in threads)."""
        backends = _backends()
        doc = {
            "accounts": {
                account: (
                    dict(backends[account]["global"].buckets),
                    backends[account]["global"].tagger,
                )
                for account in list(backends.keys())
            },
            "bucket_accounts": dict(backends.bucket_accounts),
        }
        blob = pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(prefix=f".{SNAPSHOT_FILE}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as out:  # mkstemp: mode 0600
                out.write(blob)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def after_changes(self, app: Any) -> Any:
        """WSGI middleware: save after every request that may have changed a bucket."""

        def saving(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("REQUEST_METHOD") not in CHANGING_METHODS:
                return app(environ, start_response)
            with self._lock:  # changes one at a time, each saved before it is answered
                body = list(app(environ, start_response))
                self.save()
            return body

        return saving
