"""EnvFile's provider: private atomic writes, dotenv quoting, read/update/delete semantics."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from components.local.env_file import EnvFileProvider, render

TRICKY = {
    "DATABASE_URL": "postgresql://app:p%2Fw@127.0.0.1:54322/mentora",
    "QUOTES": 'it\'s "quoted"',
    "DOLLARS": "pa$$${HOME}word",
    "MULTILINE": "line one\nline two",
    "BACKSLASH": "C:\\path\\n",
    "EMPTY": "",
}


def test_create_writes_a_private_file_with_every_key(tmp_path: Path) -> None:
    path = tmp_path / "app" / ".env.local"
    outs = EnvFileProvider().create({"path": str(path), "values": TRICKY}).outs
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert outs is not None and outs["keys"] == sorted(TRICKY)
    assert outs["path"] == str(path)
    assert os.listdir(path.parent) == [".env.local"]  # no temp file left behind
    lines = path.read_text().splitlines()
    assert lines[0].startswith("#")
    assert "DATABASE_URL='postgresql://app:p%2Fw@127.0.0.1:54322/mentora'" in lines


def test_values_round_trip_through_python_dotenv(tmp_path: Path) -> None:
    dotenv = pytest.importorskip("dotenv")
    path = tmp_path / ".env.local"
    EnvFileProvider().create({"path": str(path), "values": TRICKY})
    # interpolate=False: `$` is written literally, expansion is the loader's choice.
    assert dotenv.dotenv_values(path, interpolate=False) == TRICKY


def test_an_existing_world_readable_file_is_replaced_by_a_private_one(tmp_path: Path) -> None:
    path = tmp_path / ".env.local"
    path.write_text("OLD=1\n")
    path.chmod(0o644)
    EnvFileProvider().create({"path": str(path), "values": {"A": "1"}})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "OLD" not in path.read_text()


def test_invalid_names_are_refused() -> None:
    with pytest.raises(ValueError, match="'lower-case' is not a valid variable name"):
        render({"lower-case": "x"})


def test_read_reports_a_deleted_file_gone_and_an_edited_one_stale(tmp_path: Path) -> None:
    provider, path = EnvFileProvider(), tmp_path / ".env.local"
    outs = provider.create({"path": str(path), "values": {"A": "1"}}).outs
    assert outs is not None
    fresh = provider.read("env-file", outs)
    assert fresh.id == "env-file" and fresh.outs is not None and fresh.outs["present"] is True
    assert (
        provider.diff("env-file", fresh.outs, {"path": str(path), "values": {"A": "1"}}).changes
        is False
    )
    path.write_text("A=tampered\n")
    stale = provider.read("env-file", outs)
    assert stale.outs is not None and stale.outs["present"] is False
    assert provider.diff("env-file", stale.outs, {"path": str(path), "values": {"A": "1"}}).changes
    path.unlink()
    gone = provider.read("env-file", outs)
    assert (gone.id, gone.outs) == ("", {})


def test_update_moves_the_file_and_delete_removes_it(tmp_path: Path) -> None:
    provider = EnvFileProvider()
    old, new = tmp_path / "a.env", tmp_path / "b.env"
    olds = provider.create({"path": str(old), "values": {"A": "1"}}).outs
    assert olds is not None
    news = {"path": str(new), "values": {"A": "2", "B": "3"}}
    assert provider.diff("env-file", olds, news).changes is True
    outs = provider.update("env-file", olds, news).outs
    assert outs is not None and outs["keys"] == ["A", "B"]
    assert not old.exists() and new.read_text().endswith("A='2'\nB='3'\n")
    provider.delete("env-file", outs)
    assert not new.exists()
    provider.delete("env-file", outs)  # already gone: no error
