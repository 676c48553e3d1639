"""Before a cloud stack registers a provider: are the pinned provider plugins installed?

The engine's own error for a missing plugin names no fix and, with downloads allowed, an offline
machine retries for minutes. So the program asks the CLI first and stops in one line naming the
plugin and the command that installs it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping

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


def install_command(name: str, version: str, servers: Mapping[str, str]) -> str:
    """The command that installs one pinned plugin, from the server its SDK names (`servers`:
    components/cloud/providers.py PLUGIN_SERVERS).

    >>> install_command("vercel", "5.21.1", {"vercel": "github://api.github.com/pulumiverse"})
    'pulumi plugin install resource vercel 5.21.1 --server github://api.github.com/pulumiverse'
    """
    server = servers.get(name)
    return f"pulumi plugin install resource {name} {version}" + (
        f" --server {server}" if server else ""
    )


def require_plugins(
    pins: dict[str, str], stack: str, servers: Mapping[str, str] | None = None
) -> None:
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
        command = install_command(first[0], first[1], servers or {})
        raise pulumi.RunError(
            f"stack {stack}: provider plugin(s) not installed: {', '.join(missing)}; run: "
            f"scripts/install-plugins.sh (or: {command}, on a machine with network access)"
        )
