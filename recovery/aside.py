"""The data a local `restore` moved aside, kept until the next green gate after the restore.

`restore local --to TIME` keeps the previous `pgdata` (every write after TIME is only there)
and records it in `.pulumi-local/gate/<stack>.aside.json` before its own gate runs; that gate
keeps it (`Gate.keep_aside`), so a gate killed midway still leaves the record. The next gate of
the stack that ends green has proven the restored database; it removes what the record names
and says so. Until then the operator can copy out what they need.

A record is trusted only as far as it is checked: a path is removed only when it is a real
folder (no symlink) named `pgdata.before-restore-<time>`, beside a live `pgdata`, holding a
PostgreSQL cluster (`PG_VERSION`). Anything else is left alone and named, as is a damaged
record, and the gate stays green.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

ASIDE = "pgdata.before-restore-"


def record_path(stack: str, root: Path) -> Path:
    return root / ".pulumi-local" / "gate" / f"{stack}.aside.json"


def record(stack: str, root: Path, aside: Path) -> None:
    """Add `aside` to the stack's record (a second restore before a green gate adds to it)."""
    path = record_path(stack, root)
    kept: list[str] = []
    # None yet, or damaged: the new one is recorded all the same.
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        kept = [str(p) for p in json.loads(path.read_text())["aside"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"aside": sorted({*kept, str(aside)})}) + "\n")


def _why_not(aside: Path) -> str:
    """Why `aside` must not be removed ('' when it may)."""
    if not aside.is_absolute() or aside.is_symlink() or not aside.is_dir():
        return "not a folder (or a symlink)"
    if not aside.name.startswith(ASIDE):
        return f"not named {ASIDE}<time>"
    if not (aside.parent / "pgdata").is_dir():
        return "no live pgdata beside it"
    if not (aside / "PG_VERSION").is_file():
        return "not a PostgreSQL data folder"
    return ""


def release_after_green(stack: str, root: Path, say: Callable[[str], None]) -> list[Path]:
    """After a green gate: remove the data the record names; the folders removed."""
    path = record_path(stack, root)
    if not path.exists():
        return []
    try:
        named = [Path(str(p)) for p in json.loads(path.read_text())["aside"]]
    except (OSError, ValueError, KeyError, TypeError):
        say(
            f"restore's record {path} is damaged: the data it kept aside is left where it is; "
            f"delete the pgdata.before-restore-* folders yourself, then {path}"
        )
        return []
    removed: list[Path] = []
    for aside in named:
        if not aside.exists():
            continue
        if why := _why_not(aside):
            say(f"left {aside} alone ({why}); it was not kept aside by `restore`")
            continue
        try:
            shutil.rmtree(aside)
        except OSError as exc:
            say(f"could not remove {aside} ({exc}); delete it yourself, then {path}")
            return removed
        removed.append(aside)
        say(f"removed {aside}: the data `restore` kept aside, now that a gate passed after it")
    path.unlink()
    return removed
