"""Running Postgres as an unprivileged user of its own when the provider runs as root.

Postgres refuses to run as root, so as root each stack's server runs as a system user of its own,
`mentora-pg-<hash of its data dir>`, with a group of its own and no other group: never group root
(gid 0), so as its superuser `pg_read_file` cannot read a root:root 0640 file, and one stack's
database cannot read another's data dir (each is 0700 and owned by its own user). The user owns
the data dir and needs to traverse (not read) the folders above it and its binaries. A data dir
made by an earlier version (owned by the shared `mentora-pg`) is handed to its own user at the
next start.

>>> service_user_name(Path("/srv/stack-a/postgres"))
'mentora-pg-1e72619d75'
"""

from __future__ import annotations

import hashlib
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

USER_PREFIX = "mentora-pg-"


def _is_root() -> bool:
    return os.geteuid() == 0


def service_user_name(data_root: Path) -> str:
    """The OS user of the server whose data dir is `data_root` (stable across restarts)."""
    digest = hashlib.sha256(str(data_root.absolute()).encode()).hexdigest()
    return f"{USER_PREFIX}{digest[:10]}"


def _ensure_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home"]
            + ["--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
            timeout=30,
        )
    return pwd.getpwnam(name)


def run_as(data_root: Path) -> dict[str, Any]:
    """`subprocess` arguments that run a command as the server's own user and group, with no
    supplementary group (Python keeps root's groups unless told); empty when not root."""
    if not _is_root():
        return {}
    entry = _ensure_user(service_user_name(data_root))
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _allow_traverse(folder: Path) -> None:
    """Add the others-execute bit on `folder` and its ancestors where missing (no read access),
    saying so on stderr (shown by `pulumi up`): a checkout in a 0700 folder (`mktemp -d`, a home
    directory) would otherwise stop the database's OS user on its way to its data dir."""
    for part in [folder, *folder.parents]:
        mode = part.stat().st_mode
        if not mode & stat.S_IXOTH:
            part.chmod(mode | stat.S_IXOTH)
            print(
                f"postgres: {part} was mode {stat.S_IMODE(mode):o}: added the others-execute "
                "(traverse) bit so the database's OS user can reach its data dir and binaries "
                f"through it (it cannot list or read it); undo with `chmod o-x {part}` after "
                "moving mentora:stateDir and the checkout elsewhere",
                file=sys.stderr,
                flush=True,
            )


def prepare_for_service_user(data_root: Path, used_paths: list[Path]) -> None:
    """Give the server's user its data dir (all of it, when another user owns it) and a way to
    reach it and the binaries it runs. Call only while the server is stopped."""
    if not _is_root():
        return
    entry = _ensure_user(service_user_name(data_root))
    if data_root.stat().st_uid != entry.pw_uid or data_root.stat().st_gid != entry.pw_gid:
        for path in [data_root, *data_root.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    data_root.chmod(0o700)
    for path in [data_root.parent, *used_paths]:
        _allow_traverse(path)


def remove_service_user(data_root: Path) -> None:
    """Delete the server's user and group once its data dir is gone (best effort: `userdel`
    refuses while a process still runs as it)."""
    if not _is_root():
        return
    name = service_user_name(data_root)
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    subprocess.run(["userdel", name], check=False, capture_output=True, timeout=30)
