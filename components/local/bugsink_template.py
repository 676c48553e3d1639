"""A migrated, empty pair of Bugsink databases kept once per machine and Bugsink/Django release,
copied into each new error tracker instead of running every migration again (the migrations
take ~5 s of CPU at each create: the longest step of a cold `up`, and of every review stack).

The template is made by the first create after its migrations and before its superuser and
token exist: it holds no secret. It lives in the tools cache (`$MENTORA_TOOLS_DIR`, else
`~/.cache/mentora-infra`), appears only complete (built beside, then renamed), and carries a
manifest of its files' SHA-256: a damaged or half-copied template is never used, it is removed
and the next create migrates from scratch and stores a new one. The create still runs
`migrate` after the copy (a no-op when the template is current), so a template can only save
time, never skip a migration.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from importlib import metadata
from pathlib import Path

from components.local.go_tools import tools_dir

FILES = ("db.sqlite3", "snappea.sqlite3")
MANIFEST = "manifest.json"


def template_dir() -> Path:
    """Where the template of the installed Bugsink and Django releases lives."""
    release = f"bugsink-{metadata.version('bugsink')}-django-{metadata.version('django')}"
    return tools_dir() / "bugsink-templates" / release


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_into(data_dir: Path) -> bool:
    """Copy the template's databases into `data_dir` (which has none yet). False when there is
    no complete, intact template; a damaged one is removed so the next store replaces it."""
    source = template_dir()
    try:
        manifest = json.loads((source / MANIFEST).read_text())
        intact = all(_digest(source / name) == manifest.get(name) for name in FILES)
    except (OSError, ValueError, AttributeError):  # none, no manifest, or not a manifest
        intact = False
    if not intact:
        shutil.rmtree(source, ignore_errors=True)
        return False
    for name in FILES:
        shutil.copyfile(source / name, data_dir / name)
    return True


def store(data_dir: Path) -> None:
    """Keep `data_dir`'s just-migrated databases as the template (best effort: a failure only
    means the next create migrates again). sqlite's backup API copies each database as one
    consistent snapshot, whatever its journal mode."""
    final = template_dir()
    if final.exists():
        return
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    except OSError:
        return
    with contextlib.suppress(OSError, sqlite3.Error):
        for name in FILES:
            with (
                contextlib.closing(sqlite3.connect(data_dir / name)) as src,
                contextlib.closing(sqlite3.connect(building / name)) as dst,
            ):
                src.backup(dst)
        manifest = {name: _digest(building / name) for name in FILES}
        (building / MANIFEST).write_text(json.dumps(manifest))
        os.rename(building, final)  # atomic: a reader sees all of it or nothing
    shutil.rmtree(building, ignore_errors=True)  # left only when another create stored first
