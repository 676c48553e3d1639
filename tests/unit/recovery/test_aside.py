"""recovery/aside.py: the data `restore` kept aside is removed by the next green gate, and a
record pointing anywhere else (the live data, a symlink to a stranger's folder, a folder that
is not a cluster) or a damaged record removes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from recovery import aside


@pytest.fixture
def postgres(tmp_path: Path) -> Path:
    """A stack's postgres folder: its live pgdata and one kept aside by a restore."""
    folder = tmp_path / "state" / "postgres"
    for name in ("pgdata", f"{aside.ASIDE}20261205T010203Z"):
        (folder / name).mkdir(parents=True)
        (folder / name / "PG_VERSION").write_text("18\n")
    return folder


def release(root: Path) -> tuple[list[Path], list[str]]:
    said: list[str] = []
    return aside.release_after_green("local", root, said.append), said


def test_the_next_green_gate_removes_what_restore_kept(postgres: Path, tmp_path: Path) -> None:
    kept = postgres / f"{aside.ASIDE}20261205T010203Z"
    second = postgres / f"{aside.ASIDE}20261205T020304Z"
    second.mkdir()
    (second / "PG_VERSION").write_text("18\n")
    aside.record("local", tmp_path, kept)
    aside.record("local", tmp_path, second)  # a second restore before any green gate
    removed, said = release(tmp_path)
    assert sorted(removed) == [kept, second] and not kept.exists() and not second.exists()
    assert all("now that a gate passed after it" in line for line in said)
    assert (postgres / "pgdata" / "PG_VERSION").exists()
    assert not aside.record_path("local", tmp_path).exists()
    assert release(tmp_path) == ([], [])  # nothing recorded: nothing done


def test_no_record_removes_nothing(postgres: Path, tmp_path: Path) -> None:
    assert release(tmp_path) == ([], [])
    assert (postgres / f"{aside.ASIDE}20261205T010203Z").exists()


@pytest.mark.parametrize("target", ["live pgdata", "symlink to a stranger", "not a cluster"])
def test_a_record_naming_anything_else_removes_nothing(
    postgres: Path, tmp_path: Path, target: str
) -> None:
    stranger = tmp_path / "precious"
    stranger.mkdir()
    (stranger / "PG_VERSION").write_text("someone else's\n")
    if target == "live pgdata":
        named = postgres / "pgdata"
    elif target == "symlink to a stranger":
        named = postgres / f"{aside.ASIDE}symlinked"
        named.symlink_to(stranger)
    else:
        named = postgres / f"{aside.ASIDE}empty"
        named.mkdir()
    aside.record("local", tmp_path, named)
    removed, said = release(tmp_path)
    assert removed == [] and named.exists() and (stranger / "PG_VERSION").exists()
    assert (postgres / "pgdata" / "PG_VERSION").exists()
    assert said and "left" in said[0] and "alone" in said[0]


def test_a_damaged_record_removes_nothing_and_names_itself(postgres: Path, tmp_path: Path) -> None:
    path = aside.record_path("local", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{"aside": ["/')
    removed, said = release(tmp_path)
    assert removed == [] and (postgres / f"{aside.ASIDE}20261205T010203Z").exists()
    assert str(path) in said[0] and "damaged" in said[0]
    assert path.exists()
