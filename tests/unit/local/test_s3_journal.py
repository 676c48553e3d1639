"""The local S3 store's journal against moto's own in-process backend: what it records comes
back after a restart; damage of any kind is refused naming the file, never served as an empty
store; a crash between its steps loses nothing acknowledged and leaves no garbage."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.local import s3_journal
from components.local.s3_journal import JOURNAL, OBJECTS, ObjectJournal, StoreDamaged

BUCKET = "mentora-videos"
PAB = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


@pytest.fixture
def s3() -> Iterator[Any]:
    import boto3  # type: ignore[import-untyped]
    from moto import mock_aws

    with mock_aws():
        yield boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        )


def _restart() -> None:
    """What a restart of the store's process does to moto's memory."""
    from moto.s3.models import s3_backends

    for account in list(s3_backends.keys()):
        for backend in s3_backends[account].values():
            backend.buckets.clear()
    s3_backends.bucket_accounts.clear()


def _store(s3: Any, tmp_path: Path, objects: int = 3) -> ObjectJournal:
    journal = ObjectJournal(tmp_path)
    journal.replay()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=PAB)
    journal.sync_bucket(BUCKET)
    for n in range(objects):
        s3.put_object(Bucket=BUCKET, Key=f"v/{n}.mp4", Body=b"frames %d" % n)
        journal.sync_object(BUCKET, f"v/{n}.mp4")
    return journal


def test_objects_and_settings_come_back_with_their_etag(s3: Any, tmp_path: Path) -> None:
    journal = _store(s3, tmp_path, objects=0)
    s3.put_object(
        Bucket=BUCKET, Key="v/1.mp4", Body=b"frames", ContentType="video/mp4", Tagging="lesson=1"
    )
    journal.sync_object(BUCKET, "v/1.mp4")
    s3.put_bucket_cors(
        Bucket=BUCKET,
        CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]},
    )
    journal.sync_bucket(BUCKET)
    before = s3.head_object(Bucket=BUCKET, Key="v/1.mp4")
    _restart()
    assert s3.list_buckets()["Buckets"] == []

    assert ObjectJournal(tmp_path).replay() == (1, 1)
    got = s3.get_object(Bucket=BUCKET, Key="v/1.mp4")
    assert got["Body"].read() == b"frames"
    assert (got["ETag"], got["ContentType"], got["LastModified"]) == (
        before["ETag"],
        "video/mp4",
        before["LastModified"],
    )
    tags = s3.get_object_tagging(Bucket=BUCKET, Key="v/1.mp4")["TagSet"]
    assert tags == [{"Key": "lesson", "Value": "1"}]
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == PAB
    assert s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"][0]["AllowedMethods"] == ["GET"]


def test_deletes_and_overwrites_come_back_and_free_their_files(s3: Any, tmp_path: Path) -> None:
    journal = _store(s3, tmp_path)
    s3.delete_object(Bucket=BUCKET, Key="v/0.mp4")
    journal.sync_object(BUCKET, "v/0.mp4")
    s3.put_object(Bucket=BUCKET, Key="v/1.mp4", Body=b"new frames")
    journal.sync_object(BUCKET, "v/1.mp4")
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "v/2.mp4"}]})
    journal.sync_bucket(BUCKET)  # a multi-object delete is a bucket-level request
    assert len(list((tmp_path / OBJECTS).glob("[0-9a-f]*"))) == 1
    _restart()
    assert ObjectJournal(tmp_path).replay() == (1, 1)
    assert s3.get_object(Bucket=BUCKET, Key="v/1.mp4")["Body"].read() == b"new frames"


def test_the_journal_is_json_only(s3: Any, tmp_path: Path) -> None:
    _store(s3, tmp_path)
    for line in (tmp_path / JOURNAL).read_text().splitlines():
        assert isinstance(json.loads(line), dict)


def test_a_truncated_journal_is_refused_naming_it(s3: Any, tmp_path: Path) -> None:
    _store(s3, tmp_path)
    journal = tmp_path / JOURNAL
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:2]))  # cut on a line boundary: records simply gone
    _restart()
    with pytest.raises(StoreDamaged, match=str(journal)):
        ObjectJournal(tmp_path).replay()


def test_an_emptied_journal_is_refused_not_served_empty(s3: Any, tmp_path: Path) -> None:
    _store(s3, tmp_path)
    (tmp_path / JOURNAL).write_bytes(b"")
    _restart()
    with pytest.raises(StoreDamaged, match="lost records"):
        ObjectJournal(tmp_path).replay()


def test_a_damaged_line_is_refused_naming_the_line(s3: Any, tmp_path: Path) -> None:
    _store(s3, tmp_path)
    journal = tmp_path / JOURNAL
    text = journal.read_text().replace('"v/1.mp4"', '"v/9.mp4"', 1)
    journal.write_text(text)
    _restart()
    with pytest.raises(StoreDamaged, match=rf"{journal} line \d+ is damaged"):
        ObjectJournal(tmp_path).replay()


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_a_damaged_object_file_is_refused_naming_it(s3: Any, tmp_path: Path, damage: str) -> None:
    _store(s3, tmp_path)
    victim = sorted((tmp_path / OBJECTS).glob("[0-9a-f]*"))[0]
    if damage == "missing":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes()[:3])
    _restart()
    with pytest.raises(StoreDamaged, match=str(victim)):
        ObjectJournal(tmp_path).replay()


def test_a_torn_last_line_is_an_unanswered_write_and_is_cut(s3: Any, tmp_path: Path) -> None:
    _store(s3, tmp_path)
    journal = tmp_path / JOURNAL
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"op": "put", "bucket": "mentora-vi')  # killed mid-append
    _restart()
    store = ObjectJournal(tmp_path)
    assert store.replay() == (1, 3)
    assert journal.read_bytes() == whole  # the next record starts on a line of its own
    s3.put_object(Bucket=BUCKET, Key="v/3.mp4", Body=b"frames 3")
    store.sync_object(BUCKET, "v/3.mp4")
    _restart()
    assert ObjectJournal(tmp_path).replay() == (1, 4)


def test_a_crash_between_object_file_and_record_leaves_no_garbage(s3: Any, tmp_path: Path) -> None:
    _store(s3, tmp_path)
    pending = tmp_path / OBJECTS / ".pending"
    (pending / ("ab" * 32)).write_bytes(b"never acknowledged")  # crash before its record
    named = sorted((tmp_path / OBJECTS).glob("[0-9a-f]*"))[0]
    named.rename(pending / named.name)  # crash after its record, before the move
    _restart()
    assert ObjectJournal(tmp_path).replay() == (1, 3)
    assert list(pending.iterdir()) == []
    assert (tmp_path / OBJECTS / named.name).is_file()


def test_a_long_journal_is_compacted_at_start(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_journal, "COMPACT_SLACK", 10)
    journal = _store(s3, tmp_path, objects=1)
    for n in range(20):  # rewrites of one object: a long history, one live record
        s3.put_object(Bucket=BUCKET, Key="v/0.mp4", Body=b"take %d" % n)
        journal.sync_object(BUCKET, "v/0.mp4")
    _restart()
    assert ObjectJournal(tmp_path).replay() == (1, 1)
    assert len((tmp_path / JOURNAL).read_text().splitlines()) == 2
    _restart()
    assert ObjectJournal(tmp_path).replay() == (1, 1)
    assert s3.get_object(Bucket=BUCKET, Key="v/0.mp4")["Body"].read() == b"take 19"


def test_only_changing_requests_are_recorded_before_they_are_answered(tmp_path: Path) -> None:
    journal = ObjectJournal(tmp_path)
    seen: list[tuple[str, str]] = []
    journal.sync_object = lambda b, k: seen.append((b, k))  # type: ignore[method-assign]
    journal.sync_bucket = lambda b: seen.append((b, ""))  # type: ignore[method-assign]

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        return iter([environ["REQUEST_METHOD"].encode()])

    wrapped = journal.after_changes(app)
    for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        environ = {"REQUEST_METHOD": method, "PATH_INFO": "/b/v/\xc3\xa9.mp4"}  # UTF-8 as latin-1
        assert list(wrapped(environ, lambda *_: None)) == [method.encode()]
    wrapped({"REQUEST_METHOD": "POST", "PATH_INFO": "/b"}, lambda *_: None)
    assert seen == [("b", "v/é.mp4")] * 3 + [("b", "")]


def test_a_previous_format_store_is_migrated_without_loss(s3: Any, tmp_path: Path) -> None:
    from moto.s3.models import s3_backends

    from components.local.s3_migrate import migrate

    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="v/1.mp4", Body=b"frames", Tagging="lesson=1")
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=PAB)
    accounts = {
        account: (dict(s3_backends[account]["aws"].buckets), s3_backends[account]["aws"].tagger)
        for account in list(s3_backends.keys())
    }
    saved = {"accounts": accounts, "bucket_accounts": dict(s3_backends.bucket_accounts)}
    (tmp_path / "buckets.pickle").write_bytes(pickle.dumps(saved))  # as the old store wrote it
    _restart()
    assert migrate(tmp_path) == (1, 1)
    assert (tmp_path / "buckets.pickle.migrated").is_file()
    _restart()
    assert ObjectJournal(tmp_path).replay() == (1, 1)
    assert s3.get_object(Bucket=BUCKET, Key="v/1.mp4")["Body"].read() == b"frames"
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == PAB
