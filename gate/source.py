"""Which program a gate run deploys: the git commit of the checkout, its config digest, and
the migration files a commit has (to refuse a rollback across a schema change)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import yaml  # type: ignore[import-untyped]

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


DIRTY = "+dirty"


def head_commit(root: Path = REPO) -> str:
    """The checkout's commit; `+dirty` when any file differs from it, an untracked one included
    (an untracked migration is applied by `up` as much as a committed one; only git-ignored
    files do not count); NO_COMMIT outside git (a gate still runs there, but has no commit to
    roll back to)."""
    try:
        sha = git("rev-parse", "HEAD", root=root)
    except SourceError:
        return NO_COMMIT
    # By content, through the clean filters (`git status` calls a file modified whose size
    # differs, e.g. Pulumi.local.yaml once bootstrap added its salt line that the filter strips).
    changed = git("diff", "--name-only", "HEAD", "--", root=root)
    untracked = git("ls-files", "--others", "--exclude-standard", root=root)
    return f"{sha}{DIRTY}" if changed or untracked else sha


def settings_digest(text: str | None) -> str:
    """sha256 (16 hex) of a stack settings file's `config` mapping, in a canonical form: the
    same settings give the same digest whatever the formatting, and the per-machine
    `encryptionsalt` (kept out of commits) does not count; secrets stay encrypted."""
    try:
        document = yaml.safe_load(text or "") or {}
    except yaml.YAMLError as exc:
        raise SourceError(f"the stack settings file is not valid YAML: {exc}") from None
    config = document.get("config") if isinstance(document, dict) else None
    canonical = json.dumps(config or {}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def config_digest(stack: str, root: Path = REPO) -> str:
    """`settings_digest` of the stack's settings file as it is in the checkout."""
    path = root / f"Pulumi.{stack}.yaml"
    return settings_digest(path.read_text() if path.exists() else None)


def config_digest_in(commit: str, stack: str, root: Path = REPO) -> str:
    """`settings_digest` of the stack's settings file as commit `commit` has it."""
    try:
        text = git("show", f"{commit}:Pulumi.{stack}.yaml", root=root)
    except SourceError:
        text = None
    return settings_digest(text)


def migrations_digest(files: dict[str, str]) -> str:
    """sha256 (16 hex) of migration files: name -> git blob id (content)."""
    lines = "\n".join(f"{name} {blob}" for name, blob in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()[:16]


def migration_blobs_here(root: Path = REPO) -> dict[str, str]:
    """name -> git blob id of each migration file of the checkout as it is (untracked too)."""
    paths = sorted((root / MIGRATIONS).glob("*.sql"))
    if not paths:
        return {}
    blobs = git("hash-object", "--", *(str(p) for p in paths), root=root).split()
    return {p.name: blob for p, blob in zip(paths, blobs, strict=True)}


def migration_blobs_in(commit: str, root: Path = REPO) -> dict[str, str]:
    """name -> git blob id of each migration file commit `commit` has."""
    try:
        listing = git("ls-tree", f"{commit}:{MIGRATIONS}", root=root)
    except SourceError:
        return {}
    found = {}
    for line in listing.splitlines():
        meta, _, name = line.partition("\t")
        if name.endswith(".sql"):
            found[name] = meta.split()[-1]
    return found


def migrations_in(commit: str, root: Path = REPO) -> set[str]:
    """The migration file names commit `commit` has."""
    listing = git(
        "ls-tree", "--name-only", f"{commit.removesuffix('+dirty')}:{MIGRATIONS}", root=root
    )
    return {name for name in listing.splitlines() if name.endswith(".sql")}


def migrations_here(root: Path = REPO) -> set[str]:
    """The migration file names of the checkout as it is (what the failed update applied)."""
    return {p.name for p in (root / MIGRATIONS).glob("*.sql")}
