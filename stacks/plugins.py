"""Before a cloud stack registers a provider: are the pinned provider plugins installed?

The engine's own error for a missing plugin names no fix and, with downloads allowed, an offline
machine retries for minutes. So the program asks the CLI first and stops in one line naming the
plugin and the command that installs it.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pulumi

LIST_TIMEOUT_S = 30


def missing_plugins(pins: dict[str, str], installed: list[dict[str, str]]) -> list[str]:
    """The pinned `name version` pairs absent from `pulumi plugin ls --json`'s resource plugins.

    >>> aws = {"name": "aws", "kind": "resource", "version": "7.51.1"}
    >>> missing_plugins({"aws": "7.51.1"}, [aws])
    []
    """
    have = {
        (p.get("name"), str(p.get("version", "")).lstrip("v"))
        for p in installed
        if p.get("kind") == "resource"
    }
    return [f"{name} {version}" for name, version in pins.items() if (name, version) not in have]


def require_plugins(pins: dict[str, str], stack: str) -> None:
    """RunError (no traceback) naming each missing plugin and the command to install them."""
    if shutil.which("pulumi") is None:
        return  # not run by the CLI (Automation API, tests): the engine reports it itself
    try:
        done = subprocess.run(
            ["pulumi", "plugin", "ls", "--json"],
            capture_output=True,
            text=True,
            timeout=LIST_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        installed = json.loads(done.stdout or "[]") if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        installed = None
    if installed is None:
        return  # cannot tell: the engine names a missing plugin itself
    missing = missing_plugins(pins, installed)
    if missing:
        first = missing[0].split()
        raise pulumi.RunError(
            f"stack {stack}: provider plugin(s) not installed: {', '.join(missing)}; run: "
            f"scripts/install-plugins.sh (or: pulumi plugin install resource {first[0]} "
            f"{first[1]}, on a machine with network access)"
        )
