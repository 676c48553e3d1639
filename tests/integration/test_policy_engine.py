"""The policy pack runs inside a real `pulumi preview` of the local stack (issue 9, item 10).

The documented command is `pulumi preview --policy-pack "$MENTORA_POLICY_PACK"` (scripts/env.sh:
the absolute path of policy/analyzer.sh). Why not the other forms, with the toolchain
scripts/bootstrap.sh builds (CLI v3.274.1, Python language host from sdk v3.68.0):
- `--policy-pack policy/analyzer.sh` (relative): the CLI finds the file from its cwd, but the
  engine starts it from the program directory (Pulumi.yaml `main: stacks/`), where the relative
  path does not exist: "policy pack not found at <absolute path>";
- `--policy-pack policy` (directory): the engine asks the v3.68.0 Python host to RunPlugin the
  pack; that host ignores the request's program directory and runs the project's own program
  (stacks/, as stack `stack`), which fails its config check: "failed to start: could not read
  plugin [policy]: exit status 1". A current language host runs the directory form.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from devtools.project import REPO, LocalProject

PACK = REPO / "policy" / "analyzer.sh"
PACK_NAME = "mentora-guardrails"
# A Supabase-looking project without `protect`, which prod-stateful-protected forbids on prod.
UNPROTECTED = textwrap.dedent(
    """

    import pulumi.dynamic as _dynamic


    class _Noop(_dynamic.ResourceProvider):
        def create(self, props):
            return _dynamic.CreateResult(id_="x", outs=props)


    class _Project(_dynamic.Resource):  # a subclass: the SDK names its type from the class
        pass


    _Project(_Noop(), "policy-probe-supabase", {"organization_slug": "acme"})
    """
)


def policies(output: str) -> str:
    """The `Policies:` block of a preview's output."""
    assert "Policies:" in output, output[-3000:]
    return output.split("Policies:", 1)[1].split("\n\n", 1)[0]


@pytest.fixture(scope="module")
def project(local_project: LocalProject) -> LocalProject:
    return local_project


def test_the_documented_command_runs_the_pack_and_shows_its_verdict(
    project: LocalProject,
) -> None:
    result = project.run("preview", "--policy-pack", str(PACK), timeout=300)
    block = policies(result.output)
    assert re.search(rf"✅ {PACK_NAME}@v[\d.]+ \(local: {re.escape(str(PACK))}\)", block), block


def test_a_violation_fails_the_preview_naming_the_pack_and_the_policy(
    project: LocalProject, tmp_path: Path
) -> None:
    main = project.root / "stacks" / "__main__.py"
    original = main.read_text()
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"prod-stateful-protected": {"stack": "prod"}}))
    main.write_text(original + UNPROTECTED)
    try:
        result = project.run(
            "preview",
            "--policy-pack",
            str(PACK),
            "--policy-pack-config",
            str(config),
            check=False,
            timeout=300,
        )
    finally:
        main.write_text(original)
    assert result.returncode != 0, result.output[-3000:]
    block = policies(result.output)
    assert f"❌ {PACK_NAME}@v" in block, result.output[-4000:]
    print(block)  # shown with -s: the engine's own verdict lines
    assert "prod-stateful-protected" in block and "policy-probe-supabase" in block, block


def test_a_relative_path_to_the_pack_is_not_found(project: LocalProject) -> None:
    # Why the documented command takes an absolute path (see the module docstring).
    copy = project.root / "policy"
    shutil.copytree(PACK.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    try:
        result = project.run("preview", "--policy-pack", "policy/analyzer.sh", check=False)
    finally:
        shutil.rmtree(copy)
    assert result.returncode != 0
    assert f'policy pack not found at "{copy / "analyzer.sh"}"' in result.output
