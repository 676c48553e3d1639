"""A store of the program before files (no journal, no object folder, no pickle) holds its
objects in memory only: the provider must tell it from a new store that lost its journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.local.s3_journal import JOURNAL, LEGACY_SNAPSHOT, OBJECTS
from components.local.s3_migrate import memory_loss, memory_only, start_journal


class _Listing:
    def __init__(self, page: dict[str, object]) -> None:
        self.page = page

    def list_objects_v2(self, **_: object) -> dict[str, object]:
        from botocore.exceptions import EndpointConnectionError  # type: ignore[import-untyped]

        if not self.page:  # a stopped store
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        return self.page


@pytest.mark.parametrize("marker", [JOURNAL, OBJECTS, LEGACY_SNAPSHOT])
def test_a_store_with_any_file_of_ours_is_not_memory_only(tmp_path: Path, marker: str) -> None:
    (tmp_path / marker).touch()
    assert not memory_only(tmp_path)
    start_journal(tmp_path, _Listing({"KeyCount": 0}), "videos")  # never over a store of ours
    assert (tmp_path / JOURNAL).exists() == (marker == JOURNAL)
    assert memory_loss(tmp_path, _Listing({"KeyCount": 3}), "videos") == ""


def test_an_empty_memory_only_store_that_answers_gets_an_empty_journal(tmp_path: Path) -> None:
    (tmp_path / "moto.log").write_text("old program\n")
    assert memory_only(tmp_path)
    start_journal(tmp_path, _Listing({"KeyCount": 0}), "videos")
    assert (tmp_path / JOURNAL).read_bytes() == b""
    assert (tmp_path / JOURNAL).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("page", [{}, {"KeyCount": 2}])
def test_a_stopped_or_holding_store_gets_no_journal(tmp_path: Path, page: dict) -> None:
    # Stopped: its files may be ours, deleted; its start must refuse, naming the journal.
    start_journal(tmp_path, _Listing(page), "videos")
    assert not (tmp_path / JOURNAL).exists()


def test_what_is_held_in_memory_is_named_with_its_count(tmp_path: Path) -> None:
    held = memory_loss(tmp_path, _Listing({"KeyCount": 1000}), "videos")
    assert held.startswith("1000 or more object(s) of bucket videos")
    assert str(tmp_path / JOURNAL) in held
    assert memory_loss(tmp_path, _Listing({"KeyCount": 0}), "videos") == ""
    assert memory_loss(tmp_path, _Listing({}), "videos") == ""
