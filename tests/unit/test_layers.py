"""The import rules of docs/architecture.md, checked on the source: each layer imports only what
it may, so the backend is chosen in stacks/ alone and config words never leak downwards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from stacks.config import PROJECT_ROOT

CLOUD_SDKS = (
    "pulumi_aws",
    "pulumi_checkly",
    "pulumi_random",
    "pulumiverse_vercel",
    "upstash_pulumi",
)


def imports(folder: str) -> dict[str, set[str]]:
    """file -> every module it imports (absolute names), for each .py file under `folder`."""
    found: dict[str, set[str]] = {}
    root = PROJECT_ROOT / folder
    paths = [root] if root.is_file() else sorted(root.rglob("*.py"))
    for path in paths:
        if ".venv" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        found[str(path.relative_to(PROJECT_ROOT))] = names
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file} imports {name}"
        for file, names in imports(folder).items()
        for name in sorted(names)
        if any(name == f or name.startswith(f"{f}.") for f in forbidden)
    ]


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("components", ("stacks", "smoke", "gate", "recovery", "devtools", "tests", "bench")),
        ("components/local", (*CLOUD_SDKS, "components.cloud")),
        ("smoke", ("pulumi", "components", "gate", "recovery", *CLOUD_SDKS)),
        # Drills run no Pulumi program: they read outputs (smoke's loader), run local servers
        # (components.local), call the Management API client; the CLI (gate) imports them.
        (
            "recovery",
            ("pulumi", *CLOUD_SDKS, "gate", "stacks.config", "devtools", "tests", "bench"),
        ),
        ("stacks/contract.py", ("pulumi", "components")),
        ("gate", ("pulumi", *CLOUD_SDKS, "components.cloud")),
        ("bench", ("tests",)),
        ("devtools", ("tests", "bench")),
    ],
)
def test_layer_imports_only_what_it_may(folder: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(folder, forbidden) == []


def test_only_the_cloud_wiring_imports_the_cloud_components() -> None:
    users = [
        file
        for folder in ("stacks", "components/local", "components/app_secrets.py", "smoke", "gate")
        for file, names in imports(folder).items()
        if any(n.startswith("components.cloud") for n in names)
    ]
    # The entry point (which picks the backend and checks the cloud plugins) and the wiring.
    assert users == ["stacks/__main__.py", "stacks/cloud.py"]


def test_only_the_cloud_paths_of_recovery_use_the_cloud_components() -> None:
    users = [
        file
        for file, names in imports("recovery").items()
        if any(n.startswith("components.cloud") for n in names)
    ]
    # The restore calls the Management API client; the drill reads Supavisor's two ports.
    assert users == ["recovery/cloud_drill.py", "recovery/cloud_restore.py"]


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    # The rules above would pass on an empty scan: prove the scanner finds real imports.
    assert "components/local/database.py imports components.former" in offenders(
        "components/local", ("components.former",)
    )
