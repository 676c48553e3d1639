"""The local S3 store on disk: one file per object and an append-only journal, so a write costs the
same whatever the store holds, a crash loses nothing acknowledged, and damage is never served as
an empty store.

moto keeps buckets in memory. The store's process (components/local/s3_server.py `serve`) replays
this journal into moto when it starts, then records each change before the client gets its answer:

- `objects/<sha256>`: an object's bytes, named by their hash (written to `objects/.pending/`,
  fsynced, then moved in once the journal names it; a pending file no record names is an
  unacknowledged write, and is dropped);
- `journal.jsonl`: one JSON line per change (`put`, `delete`, `bucket`), each with the hash of its
  own content, fsynced before the answer. Only JSON: nothing in the store runs code when loaded.

A start refuses (`StoreDamaged`, naming the file) instead of serving less than was acknowledged:
a journal line that does not parse or whose hash does not match (a truncated last line is an
unacknowledged write only when nothing follows it), an object file missing or with other bytes
than its record, or an object file no journal record names (the journal lost records: truncated
or replaced). Kept per object: bytes, ETag, last-modified, metadata (content type included), tags;
per bucket: region, policy, public access block, CORS. Not kept: IAM (every start issues new
keys), versions other than the latest, unfinished multipart uploads.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.local import s3_moto

JOURNAL = "journal.jsonl"  # inside the store's data dir
OBJECTS = "objects"
CHANGING_METHODS = frozenset({"PUT", "POST", "DELETE"})
LEGACY_SNAPSHOT = "buckets.pickle"  # the previous format: never loaded by the store itself
COMPACT_SLACK = 1000  # records beyond twice the live ones before a start rewrites the journal


class StoreDamaged(Exception):
    """The store's files do not hold what the journal says was acknowledged; names the file."""


def _digest(record: dict[str, Any]) -> str:
    body = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class _State:
    """What the journal says the store holds: live objects by (bucket, key), bucket settings, and
    every object file any record ever named (to tell garbage from lost records)."""

    objects: dict[tuple[str, str], dict[str, Any]]
    buckets: dict[str, dict[str, Any]]
    named: set[str]
    refs: dict[str, int]
    records: int = 0
    torn_at: int | None = None  # where an unanswered, half-written last line starts


class ObjectJournal:
    """Owns the store's `journal.jsonl` and `objects/` in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / JOURNAL
        self.objects = data_dir / OBJECTS
        self.pending = self.objects / ".pending"
        self._lock = threading.Lock()
        self._state = _State({}, {}, set(), {})

    # -- start ---------------------------------------------------------------------------------
    def replay(self) -> tuple[int, int]:
        """Check the files and load them into moto; returns (buckets, objects). Raises
        `StoreDamaged` naming the file when anything acknowledged is missing or altered."""
        self.pending.mkdir(parents=True, exist_ok=True)
        state = self._read_journal()
        for name in os.listdir(self.pending):  # moved in if a record names it, else dropped
            if name in state.named:
                os.replace(self.pending / name, self.objects / name)
            else:
                (self.pending / name).unlink()
        for name in os.listdir(self.objects):
            if name == ".pending":
                continue
            if name not in state.named:
                raise StoreDamaged(
                    f"storage: {self.objects / name} is named by no record of {self.path}: the "
                    "journal lost records (truncated or replaced); restore it from a backup, "
                    "or move the store aside to start empty"
                )
            if not state.refs.get(name):  # an overwrite or delete that crashed before its cleanup
                (self.objects / name).unlink()
        if state.torn_at is not None:  # the next record must start on a line of its own
            os.truncate(self.path, state.torn_at)
        for name, settings in state.buckets.items():
            s3_moto.restore_bucket(name, settings)
        for (bucket, key), entry in state.objects.items():
            s3_moto.restore_object(bucket, key, entry, self._verified(entry))
        self._state = state
        if state.records > 2 * (len(state.buckets) + len(state.objects)) + COMPACT_SLACK:
            self._compact()
        return len(state.buckets), len(state.objects)

    def _compact(self) -> None:
        """Rewrite the journal with one record per live bucket and object (written whole to a
        temporary name, fsynced, renamed over the old one: a crash keeps one of the two)."""
        records = [
            {"op": "bucket", "bucket": name, "settings": settings}
            for name, settings in self._state.buckets.items()
        ] + [
            {"op": "put", "bucket": bucket, "key": key, "entry": entry}
            for (bucket, key), entry in self._state.objects.items()
        ]
        staged = self.path.with_name(f".{JOURNAL}.compacting")
        with open(staged, "wb") as out:
            for record in records:
                out.write((json.dumps({**record, "check": _digest(record)}) + "\n").encode())
            out.flush()
            os.fsync(out.fileno())
        os.replace(staged, self.path)
        _fsync_dir(self.path.parent)
        self._state.records = len(records)

    def _read_journal(self) -> _State:
        state = _State({}, {}, set(), {})
        if not self.path.exists():
            return state
        lines = self.path.read_bytes().split(b"\n")
        offset = 0
        for number, line in enumerate(lines, start=1):
            start, offset = offset, offset + len(line) + 1
            if not line:
                continue
            try:
                record = json.loads(line)
                ok = isinstance(record, dict) and record.pop("check", None) == _digest(record)
            except ValueError:
                ok = False
            if not ok:
                if number == len(lines):  # no newline after it: a write that was never answered
                    state.torn_at = start
                    break
                raise StoreDamaged(
                    f"storage: {self.path} line {number} is damaged; restore the file from a "
                    "backup, or move the store aside to start empty"
                )
            self._apply(state, record)
        return state

    @staticmethod
    def _apply(state: _State, record: dict[str, Any]) -> None:
        state.records += 1
        if record["op"] == "bucket":
            if record["settings"] is None:
                state.buckets.pop(record["bucket"], None)
            else:
                state.buckets[record["bucket"]] = record["settings"]
            return
        before = state.objects.pop((record["bucket"], record["key"]), None)
        if before is not None:
            state.refs[before["blob"]] -= 1
        if record["op"] == "put":
            blob = record["entry"]["blob"]
            state.objects[(record["bucket"], record["key"])] = record["entry"]
            state.named.add(blob)
            state.refs[blob] = state.refs.get(blob, 0) + 1

    def _verified(self, entry: dict[str, Any]) -> bytes:
        path = self.objects / entry["blob"]
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StoreDamaged(
                f"storage: {path} is missing (an object the journal holds); restore it from a "
                "backup, or move the store aside to start empty"
            ) from None
        if hashlib.sha256(data).hexdigest() != entry["blob"]:
            raise StoreDamaged(
                f"storage: {path} has {len(data)} bytes that do not match its record "
                f"({entry['size']} bytes); restore it from a backup"
            )
        return data

    # -- changes -------------------------------------------------------------------------------
    def _append(self, record: dict[str, Any]) -> None:
        line = json.dumps({**record, "check": _digest(record)}) + "\n"
        with open(self.path, "ab") as out:  # O_APPEND: a crash leaves at most a torn last line
            out.write(line.encode())
            out.flush()
            os.fsync(out.fileno())
        self._apply(self._state, record)

    def sync_object(self, bucket: str, key: str) -> None:
        """Record what moto now holds at (bucket, key): a put with its bytes, or a delete."""
        found = s3_moto.object_entry(bucket, key)
        before = self._state.objects.get((bucket, key))
        if found is None:
            if before is not None:
                self._append({"op": "delete", "bucket": bucket, "key": key})
                self._drop_blob(before["blob"])
            return
        entry, value = found
        if before is not None and before["etag"] == entry["etag"] and before["size"] == len(value):
            entry["blob"] = before["blob"]
            if entry == before:
                return  # a request that changed nothing we keep
        else:
            entry["blob"] = self._write_blob(value)
        self._append({"op": "put", "bucket": bucket, "key": key, "entry": entry})
        staged = self.pending / entry["blob"]
        if staged.exists():  # no fsync needed: a replay moves a named pending file in itself
            os.replace(staged, self.objects / entry["blob"])
        if before is not None and before["blob"] != entry["blob"]:
            self._drop_blob(before["blob"])

    def sync_bucket(self, bucket: str) -> None:
        """Record a bucket's settings (or its removal), and deletes of keys moto no longer has
        (a multi-object delete)."""
        settings = s3_moto.bucket_settings(bucket)
        if settings != self._state.buckets.get(bucket):
            self._append({"op": "bucket", "bucket": bucket, "settings": settings})
        held = s3_moto.object_keys(bucket)
        for gone in [k for (b, k) in self._state.objects if b == bucket and k not in held]:
            self.sync_object(bucket, gone)

    def _write_blob(self, value: bytes) -> str:
        name = hashlib.sha256(value).hexdigest()
        if (self.objects / name).exists():
            return name
        staged = self.pending / name
        with open(staged, "wb") as out:
            out.write(value)
            out.flush()
            os.fsync(out.fileno())
        _fsync_dir(self.pending)  # its name too, before a journal record names it
        return name

    def _drop_blob(self, name: str) -> None:
        if not self._state.refs.get(name):
            self._state.refs.pop(name, None)
            (self.objects / name).unlink(missing_ok=True)

    def after_changes(self, app: Any) -> Any:
        """WSGI middleware: after each request that may change the store, record the change
        before answering (changes one at a time, in the order moto applied them)."""

        def recording(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("REQUEST_METHOD") not in CHANGING_METHODS:
                return app(environ, start_response)
            bucket, key = s3_moto.request_target(environ)
            with self._lock:
                body = list(app(environ, start_response))
                if bucket and key:
                    self.sync_object(bucket, key)
                elif bucket:
                    self.sync_bucket(bucket)
            return body

        return recording
