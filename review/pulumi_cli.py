"""The few Pulumi CLI calls review stacks make beside the gate's deploy: list, init, cancel,
remove. Each is bounded, quiet (its output is returned, never printed with secrets: these
commands print none) and runs in the checkout with the caller's environment
(`source scripts/env.sh`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from review.errors import ReviewError
from review.naming import parse_review_stack

TIMEOUT_S = 60.0
NO_STACK = "no stack named"  # pkg/cmd/pulumi/stack: "no stack named 'pr-9' found"
NO_OUTPUT = "does not have output property"  # "current stack does not have output property 'x'"


def _run(root: Path, *args: str, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["pulumi", *args, "--non-interactive"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ReviewError(f"pulumi {' '.join(args)} did not finish within {timeout:g}s") from None


def review_stacks(root: Path) -> set[str]:
    """Every `pr-<N>` stack the backend holds."""
    done = _run(root, "stack", "ls", "--json")
    if done.returncode != 0:
        raise ReviewError(f"pulumi stack ls failed: {done.stderr.strip()[-500:]}")
    names = {str(entry.get("name", "")).rsplit("/", 1)[-1] for entry in json.loads(done.stdout)}
    return {name for name in names if parse_review_stack(name) is not None}


def ensure_stack(root: Path, stack: str) -> None:
    """Create `stack` with the passphrase secrets provider unless the backend has it (one call:
    an existing stack is `init`'s "already exists")."""
    done = _run(root, "stack", "init", stack, "--secrets-provider", "passphrase")
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise ReviewError(f"pulumi stack init {stack} failed: {done.stderr.strip()[-500:]}")


def cancel(root: Path, stack: str) -> None:
    """Drop the lock a killed update left on `stack` (best effort; only called when no review
    command of that stack runs and no pulumi process of it is alive)."""
    _run(root, "cancel", "--yes", "--stack", stack, timeout=30)


def remove_stack(root: Path, stack: str) -> bool:
    """Remove `stack` and its state from the backend, whatever the state still lists (the
    caller stops its servers and removes their folders); False when there was no such stack.
    A pulumi killed mid-update leaves its lock: it is dropped (`pulumi cancel`) and rm retried.
    A stack the backend still has afterwards is the caller's check (`review_stacks`)."""
    done = _run(root, "stack", "rm", stack, "--force", "--yes")
    if done.returncode != 0 and NO_STACK in done.stderr.lower():
        return False
    if done.returncode != 0:
        cancel(root, stack)
        done = _run(root, "stack", "rm", stack, "--force", "--yes")
    if done.returncode != 0 and NO_STACK not in done.stderr.lower():
        raise ReviewError(f"pulumi stack rm {stack} failed: {done.stderr.strip()[-500:]}")
    return done.returncode == 0


def output(root: Path, stack: str, name: str, *, secret: bool = False) -> object | None:
    """Output `name` of `stack` (None when the stack or the output does not exist); a secret's
    value only with `secret` (it is returned, never printed)."""
    args = ["stack", "output", name, "--json", "--stack", stack]
    done = _run(root, *args, *(["--show-secrets"] if secret else []))
    if done.returncode != 0:
        if NO_STACK in done.stderr.lower() or NO_OUTPUT in done.stderr.lower():
            return None
        raise ReviewError(
            f"pulumi stack output {name} of {stack} failed: {done.stderr.strip()[-500:]}"
        )
    value = json.loads(done.stdout) if done.stdout.strip() else None
    return value
