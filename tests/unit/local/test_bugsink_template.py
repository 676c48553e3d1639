"""bugsink_template without Bugsink: a damaged template (truncated, a flipped byte, no manifest,
a file missing) is never copied and is removed; two stores at once leave one complete template and
no half-built folder; a store copies a consistent snapshot of a database in WAL mode."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from components.local import bugsink_template
from components.local.bugsink_template import FILES, MANIFEST


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A data dir with both databases, the second in WAL mode with rows not yet checkpointed."""
    monkeypatch.setenv("MENTORA_TOOLS_DIR", str(tmp_path / "tools"))
    data_dir = tmp_path / "source"
    data_dir.mkdir()
    for name in FILES:
        conn = sqlite3.connect(data_dir / name)
        conn.execute("pragma journal_mode=wal")
        conn.execute("create table django_migrations (name text)")
        conn.executemany("insert into django_migrations values (?)", [(str(i),) for i in range(50)])
        conn.commit()
        if name == FILES[0]:
            conn.close()
    return data_dir


def count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from django_migrations").fetchone()[0])


def test_a_store_then_a_copy_gives_every_row(source: Path, tmp_path: Path) -> None:
    bugsink_template.store(source)
    target = tmp_path / "target"
    target.mkdir()
    assert bugsink_template.copy_into(target)
    assert [count(target / name) for name in FILES] == [50, 50]


@pytest.mark.parametrize("damage", ["truncated", "flipped", "no manifest", "a file missing"])
def test_a_damaged_template_is_not_copied_and_is_removed(
    source: Path, tmp_path: Path, damage: str
) -> None:
    bugsink_template.store(source)
    template = bugsink_template.template_dir()
    db = template / FILES[0]
    if damage == "truncated":
        db.write_bytes(db.read_bytes()[:100])
    elif damage == "flipped":
        data = bytearray(db.read_bytes())
        data[-1] ^= 0xFF
        db.write_bytes(bytes(data))
    elif damage == "no manifest":
        (template / MANIFEST).unlink()
    else:
        (template / FILES[1]).unlink()
    target = tmp_path / "target"
    target.mkdir()
    assert not bugsink_template.copy_into(target)
    assert list(target.iterdir()) == [] and not template.exists()
    bugsink_template.store(source)  # the next create stores it anew
    assert bugsink_template.copy_into(target)


def test_two_stores_at_once_leave_one_complete_template(source: Path) -> None:
    threads = [threading.Thread(target=bugsink_template.store, args=(source,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    folder = bugsink_template.template_dir().parent
    assert [p.name for p in folder.iterdir()] == [bugsink_template.template_dir().name]
    assert sorted(p.name for p in bugsink_template.template_dir().iterdir()) == sorted(
        [*FILES, MANIFEST]
    )
