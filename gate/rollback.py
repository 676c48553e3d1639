"""Bring a stack back to its last-known-good commit: a git worktree of that commit, its program
and stack config deployed, its smoke suite run.

The worktree stays (under .pulumi-local/rollback/) while the stack runs from it: local servers
and the app process have their folder there. The next ordinary `up` points them back.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml  # type: ignore[import-untyped]

from gate import source
from gate.exitcodes import Exit
from gate.interrupts import Interrupted
from gate.ledger import LastKnownGood
from gate.runner import REPO, Checkout, stack_target
from gate.source import DIRTY, NO_COMMIT, SourceError, git

# Local settings whose relative paths resolve against the project root: pinned to this
# checkout's, so the old program finds the same servers and data instead of making new ones.
PINNED_PATHS = {"mentora:stateDir": ".pulumi-local/servers", "mentora:envFile": ".env.local"}


class RollbackError(Exception):
    """The rollback could not be done; the message says which step and why."""


def ensure_commit(commit: str, root: Path = REPO) -> str:
    """The commit's sha; RollbackError when the repository no longer has it, or when the
    deployment was made from a tree that differed from it (`+dirty`: not reproducible)."""
    if commit == NO_COMMIT:
        raise RollbackError("the last-known-good was deployed outside a git checkout")
    if commit.endswith(DIRTY):
        raise RollbackError(
            f"the last-known-good {commit[:12]} was deployed from a tree with uncommitted "
            "changes: its program and settings cannot be reproduced exactly"
        )
    sha = commit
    try:
        git("cat-file", "-e", f"{sha}^{{commit}}", root=root)
    except SourceError:
        raise RollbackError(f"commit {sha[:12]} is not in this repository any more") from None
    return sha


def unreproducible(lkg: LastKnownGood, stack: str, root: Path = REPO) -> str | None:
    """Why deploying `lkg.commit` would not bring back exactly the deployment that was green
    (None when it would): a dirty tree, other stack settings, other migrations."""
    try:
        sha = ensure_commit(lkg.commit, root)
        settings = source.config_digest_in(sha, stack, root)
        migrations = source.migrations_digest(source.migration_blobs_in(sha, root))
    except (RollbackError, SourceError) as exc:
        return str(exc)
    if settings != lkg.config_sha:
        return (
            f"the settings of Pulumi.{stack}.yaml in {sha[:12]} differ from those the "
            "last-known-good was deployed with (they were changed without a commit)"
        )
    if not lkg.migrations:
        return "the last-known-good record does not say which migrations it applied"
    if migrations != lkg.migrations:
        return (
            f"the last-known-good applied migrations that {sha[:12]} does not have "
            "(an untracked or since-changed migration file)"
        )
    return None


def worktree_of(commit: str, stack: str, root: Path = REPO) -> Path:
    """A checkout of `commit` (reused when it exists), linked to this checkout's virtualenv."""
    sha = ensure_commit(commit, root)
    path = root / ".pulumi-local" / "rollback" / f"{stack}-{sha[:12]}"
    if not (path / ".git").exists():
        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        git("worktree", "prune", root=root)
        try:
            git("worktree", "add", "--detach", str(path), sha, root=root)
        except SourceError as exc:
            raise RollbackError(f"cannot check out {sha[:12]}: {exc}") from None
    for link in (path / ".venv", path / "stacks" / ".venv"):
        if link.parent.is_dir() and not link.exists():
            link.symlink_to(root / ".venv")
    _carry_stack_file(stack, root, path)
    return path


def _carry_stack_file(stack: str, root: Path, path: Path) -> None:
    """The old commit's settings, with what belongs to this machine and not to a commit: the
    passphrase salt (kept out of commits) and, locally, the absolute server and env paths."""
    stack_file = path / f"Pulumi.{stack}.yaml"
    old = yaml.safe_load(stack_file.read_text()) if stack_file.exists() else {}
    current = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}
    old = old or {}
    if "encryptionsalt" in current and "encryptionsalt" not in old:
        old["encryptionsalt"] = current["encryptionsalt"]
    if stack_target(stack, root) == "local":
        config = old.setdefault("config", {})
        for key, default in PINNED_PATHS.items():
            value = Path(str((current.get("config") or {}).get(key, default)))
            config[key] = str(value if value.is_absolute() else root / value)
    stack_file.write_text(yaml.safe_dump(old, sort_keys=False))


def deploy_commit(commit: str, stack: str, deadline: float, root: Path = REPO) -> Path:
    """Deploy `commit`'s program to `stack` and run its smoke suite; the worktree used.

    Only `up` with the commit's own program and settings: nothing that would allow a stateful
    server to be replaced (a replace the program refuses stops the rollback, which holds)."""
    path = worktree_of(commit, stack, root)
    checkout = Checkout(path)
    code = checkout.pulumi(stack, "up", "--yes", "--skip-preview", "--refresh")
    if code != 0:
        raise RollbackError(f"pulumi up of {commit[:12]} exited {code}")
    smoke = checkout.smoke(stack, deadline=deadline)
    if smoke is Exit.INTERRUPTED:
        raise Interrupted()  # stopped by a signal: the stack stays held, not "failed"
    if smoke is not Exit.GREEN:
        raise RollbackError(f"smoke of {commit[:12]} is not green (exit {int(smoke)})")
    return path
