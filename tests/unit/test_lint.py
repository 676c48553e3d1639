"""The tree stays lint-clean and formatted (ruff, the rules in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stacks.config import PROJECT_ROOT


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *command],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
