"""Running Postgres as an unprivileged user when the provider runs as root.

Postgres refuses to run as root, so as root the server runs as the system user `mentora-pg`:
it owns the data dir and needs to traverse (not read) the folders above it and its binaries.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path

SERVICE_USER = "mentora-pg"


def _is_root() -> bool:
    return os.geteuid() == 0


def as_service_user() -> str | None:
    """The user to run Postgres as: `mentora-pg` (created if missing) as root, else ourselves."""
    if not _is_root():
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
    return SERVICE_USER


def _allow_traverse(folder: Path) -> None:
    """Add the others-execute bit on `folder` and its ancestors where missing (no read access)."""
    for part in [folder, *folder.parents]:
        mode = part.stat().st_mode
        if not mode & stat.S_IXOTH:
            part.chmod(mode | stat.S_IXOTH)


def prepare_for_service_user(data_root: Path, used_paths: list[Path]) -> None:
    """Give the service user its data dir and a way to reach it and the binaries it runs."""
    user = as_service_user()
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for path in [data_root, *data_root.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    data_root.chmod(0o700)
    for path in [data_root.parent, *used_paths]:
        _allow_traverse(path)
