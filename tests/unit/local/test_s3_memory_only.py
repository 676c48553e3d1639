"""A store of the program before files (no journal, no object folder, no pickle) holds its
objects in memory only: the provider must tell it from a new store that lost its journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.local.s3_journal import JOURNAL, LEGACY_SNAPSHOT, OBJECTS
from components.local.s3_migrate import memory_only, objects_in_memory, start_journal


class _Listing:
    def __init__(self, page: dict[str, object]) -> None:
        self.page = page

    def list_objects_v2(self, **_: object) -> dict[str, object]:
        return self.page


@pytest.mark.parametrize("marker", [JOURNAL, OBJECTS, LEGACY_SNAPSHOT])
def test_a_store_with_any_file_of_ours_is_not_memory_only(tmp_path: Path, marker: str) -> None:
    (tmp_path / marker).touch()
    assert not memory_only(tmp_path)
    start_journal(tmp_path)  # never over a store of ours: a lost journal stays lost
    assert (tmp_path / JOURNAL).exists() == (marker == JOURNAL)


def test_a_memory_only_store_gets_an_empty_journal(tmp_path: Path) -> None:
    (tmp_path / "moto.log").write_text("old program\n")
    assert memory_only(tmp_path)
    start_journal(tmp_path)
    assert (tmp_path / JOURNAL).read_bytes() == b""
    assert (tmp_path / JOURNAL).stat().st_mode & 0o777 == 0o600


def test_what_is_held_in_memory_is_named_with_its_count() -> None:
    held = objects_in_memory(_Listing({"KeyCount": 1000, "IsTruncated": True}), "videos")
    assert held.startswith("1000 or more object(s) of bucket videos")
    assert objects_in_memory(_Listing({"KeyCount": 0}), "videos") == ""
