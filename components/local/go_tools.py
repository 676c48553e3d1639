"""Where scripts/install-go-tool.sh put a Go-built tool: `$MENTORA_TOOLS_DIR/<name>-<version>/bin`.

The version is the one the committed tools module pins (tools/<name>/go.mod), so a provider
never runs a binary other than the pinned one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from components.local.errors import LocalServerError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TOOLS_DIR = Path.home() / ".cache" / "mentora-infra"


def tools_dir() -> Path:
    """The tools cache outside the repo: `$MENTORA_TOOLS_DIR` (scripts/env.sh), else
    DEFAULT_TOOLS_DIR. Built tools live there, and so do the templates kept beside them."""
    return Path(os.environ.get("MENTORA_TOOLS_DIR") or DEFAULT_TOOLS_DIR)


def pinned_version(name: str, module: str) -> str:
    """The version of `module` that tools/<name>/go.mod requires.

    >>> pinned_version("inngest", "github.com/inngest/inngest")
    'v1.0.0'
    """
    go_mod = ROOT / "tools" / name / "go.mod"
    pattern = re.compile(rf"^(?:require\s+|\s+){re.escape(module)}\s+(v\S+)", re.MULTILINE)
    found = pattern.search(go_mod.read_text()) if go_mod.is_file() else None
    if found is None:
        raise LocalServerError(f"{name}: {go_mod} does not pin {module}; restore it from git")
    return found.group(1)


def tool_binary(service: str, name: str, module: str, binary: str) -> Path:
    """The pinned build of `binary`; a missing one is named with the command that builds it."""
    path = tools_dir() / f"{name}-{pinned_version(name, module)}" / "bin" / binary
    if not os.access(path, os.X_OK):
        raise LocalServerError(
            f"{service}: {path} is missing; build it: scripts/install-go-tool.sh {name} "
            "(scripts/bootstrap.sh does it too)"
        )
    return path
