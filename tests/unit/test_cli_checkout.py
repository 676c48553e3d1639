"""The gate acts on the checkout it runs in, never on the installed package's location: a copied
checkout whose `.venv` still points at the original deploys itself (issue 17)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gate.runner import GateUsageError
from gate.workdir import MARKERS, checkout_root

ROOT = Path(__file__).resolve().parents[2]
FAKE_PULUMI = """#!/bin/sh
echo "pulumi ran in $(pwd) with PYTHONPATH=$PYTHONPATH"
"""


def checkout_copy(base: Path) -> Path:
    """What a copied checkout has that the gate looks at (no .venv of its own)."""
    copy = base / "copy"
    for marker in MARKERS:
        (copy / marker).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / marker, copy / marker)
    shutil.copy2(ROOT / "Pulumi.local.yaml", copy / "Pulumi.local.yaml")
    return copy


def fake_pulumi_on_path(base: Path) -> dict[str, str]:
    bin_dir = base / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(FAKE_PULUMI)
    pulumi.chmod(pulumi.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MENTORA_REPO")}
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}


def gate(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The installed entry point: this repository's code, whatever the current directory.
    command = [sys.executable, "-c", "from gate.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_a_copied_checkout_runs_pulumi_on_itself(tmp_path: Path) -> None:
    copy = checkout_copy(tmp_path)
    done = gate(["preview", "local"], copy / "stacks", fake_pulumi_on_path(tmp_path))
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert f"pulumi ran in {copy} with PYTHONPATH={copy}" in out, out
    assert f"pulumi ran in {ROOT} " not in out


def test_repo_option_names_the_checkout_and_is_checked(tmp_path: Path) -> None:
    copy = checkout_copy(tmp_path)
    env = fake_pulumi_on_path(tmp_path)
    done = gate(["--repo", str(copy), "preview", "local"], tmp_path, env)
    assert f"pulumi ran in {copy} " in done.stdout + done.stderr
    refused = gate(["--repo", str(tmp_path), "preview", "local"], tmp_path, env)
    assert refused.returncode == 2
    assert "is not a mentora-infra checkout" in refused.stdout + refused.stderr
    outside = gate(["preview", "local"], tmp_path, env)
    assert outside.returncode == 2
    assert "pass --repo <checkout>" in outside.stdout + outside.stderr
    assert "pulumi ran" not in outside.stdout + outside.stderr  # nothing touched


def test_checkout_root_is_found_from_any_folder_inside(tmp_path: Path) -> None:
    copy = checkout_copy(tmp_path)
    assert checkout_root(copy / "gate") == copy.resolve()
    assert checkout_root(tmp_path, explicit=copy) == copy.resolve()
    with pytest.raises(GateUsageError, match="not inside a mentora-infra checkout"):
        checkout_root(tmp_path)
