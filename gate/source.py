"""Which program a gate run deploys: the git commit of the checkout, its config digest, and
the migration files a commit has (to refuse a rollback across a schema change)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from gate.runner import REPO

GIT_TIMEOUT_S = 30
MIGRATIONS = "supabase/migrations"


class SourceError(Exception):
    """Raised when git cannot answer (not a repository, unknown commit); the message says why."""


def git(*args: str, root: Path = REPO) -> str:
    """`git <args>` in `root`; its stdout, or SourceError with git's own last line."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"git {args[0]}: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["failed"]
        raise SourceError(f"git {' '.join(args[:2])}: {last[0]}")
    return done.stdout.strip()


NO_COMMIT = "(not a git checkout)"


def head_commit(root: Path = REPO) -> str:
    """The checkout's commit; `+dirty` when tracked files differ from it; NO_COMMIT outside git
    (a gate still runs there, but has no commit to roll back to)."""
    try:
        sha = git("rev-parse", "HEAD", root=root)
    except SourceError:
        return NO_COMMIT
    changed = git("status", "--porcelain", "--untracked-files=no", root=root)
    return f"{sha}+dirty" if changed else sha


def config_digest(stack: str, root: Path = REPO) -> str:
    """sha256 of the stack's settings file as committed or edited (secrets stay encrypted)."""
    path = root / f"Pulumi.{stack}.yaml"
    data = path.read_bytes() if path.exists() else b""
    return hashlib.sha256(data).hexdigest()[:16]


def migrations_in(commit: str, root: Path = REPO) -> set[str]:
    """The migration file names commit `commit` has."""
    listing = git(
        "ls-tree", "--name-only", f"{commit.removesuffix('+dirty')}:{MIGRATIONS}", root=root
    )
    return {name for name in listing.splitlines() if name.endswith(".sql")}


def migrations_here(root: Path = REPO) -> set[str]:
    """The migration file names of the checkout as it is (what the failed update applied)."""
    return {p.name for p in (root / MIGRATIONS).glob("*.sql")}
