"""The migrated Bugsink template (components/local/bugsink_template.py) against real Bugsink: it
holds no secret, a data dir set up from it gets its own superuser and token, and a damaged one is
migrated around and replaced (every kind of damage, and two stores at once: tests/unit/local/
test_bugsink_template.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from components.local import bugsink_template, error_tracker


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("MENTORA_TOOLS_DIR", str(tmp_path / "tools"))
    return tmp_path / "tools" / "bugsink-templates"


def set_up(data_dir: Path) -> tuple[Path, dict[str, Any]]:
    data_dir.mkdir()
    props = {"port": 1, "data_dir": str(data_dir)}
    error_tracker.configure(props)
    return data_dir, error_tracker.setup_once(props, "a-long-admin-password")


def rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])  # noqa: S608


def test_the_template_holds_no_secret_seeds_the_next_and_is_replaced_when_damaged(
    cache: Path, tmp_path: Path
) -> None:
    _, first = set_up(tmp_path / "first")
    assert first["template"] is False and first["token"]
    template = bugsink_template.template_dir()
    assert template.parent == cache
    assert rows(template / "db.sqlite3", "auth_user") == 0
    assert rows(template / "db.sqlite3", "bsmain_authtoken") == 0
    assert first["token"].encode() not in (template / "db.sqlite3").read_bytes()
    data_dir, second = set_up(tmp_path / "second")
    assert second["template"] is True
    # Its own superuser and token, in its own database.
    assert rows(data_dir / "db.sqlite3", "auth_user") == 1
    assert rows(data_dir / "db.sqlite3", "bsmain_authtoken") == 1
    assert second["token"] != first["token"]
    # A damaged template is migrated around (and stored anew: tests/unit/local/).
    db = template / "db.sqlite3"
    data = bytearray(db.read_bytes())
    data[len(data) // 2] ^= 0xFF
    db.write_bytes(bytes(data))
    data_dir, third = set_up(tmp_path / "third")
    assert third["template"] is False and third["token"]
    assert rows(data_dir / "db.sqlite3", "auth_user") == 1
