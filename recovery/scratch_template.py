"""A pristine empty cluster kept once per machine and PostgreSQL build, copied into each empty
scratch instead of running initdb again (initdb takes seconds on a loaded machine; a copy a
fraction of that).

The template is the data dir of the first empty scratch, copied right after its initdb, before
it ever started. It lives in the tools cache (`$MENTORA_TOOLS_DIR`, else
`~/.cache/mentora-infra`), keyed by the binaries (path, size, mtime) and the superuser's name,
and appears only complete (built beside, then renamed). Its superuser password is that first
scratch's: every copy gets a fresh random password once started (`scratch.py`).

>>> find(pg_bin_dir(), "postgres")  # doctest: +SKIP
PosixPath('/root/.cache/mentora-infra/scratch-templates/pg-3f9a0c1b2d4e')
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

from components.local.go_tools import tools_dir


def cache_dir() -> Path:
    return tools_dir() / "scratch-templates"


def _path(bin_dir: Path, superuser: str) -> Path:
    binary = (bin_dir / "postgres").stat()
    identity = f"{bin_dir}|{binary.st_size}|{binary.st_mtime_ns}|{superuser}"
    return cache_dir() / f"pg-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"


def find(bin_dir: Path, superuser: str) -> Path | None:
    """The complete template for these binaries and superuser, or None."""
    with contextlib.suppress(OSError):
        path = _path(bin_dir, superuser)
        if (path / "PG_VERSION").is_file():
            return path
    return None


def store(pgdata: Path, bin_dir: Path, superuser: str) -> None:
    """Keep a copy of a fresh, never-started `pgdata` as the template (best effort: a failure
    only means the next scratch runs initdb again)."""
    with contextlib.suppress(OSError, shutil.Error):
        final = _path(bin_dir, superuser)
        if final.exists():
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        building = final.with_name(f".{final.name}.{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        shutil.copytree(pgdata, building, symlinks=True)
        try:
            os.rename(building, final)  # atomic: a reader sees all of it or nothing
        except OSError:
            shutil.rmtree(building, ignore_errors=True)  # another process stored it first
