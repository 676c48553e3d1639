"""scripts/env.sh: the local stack stays offline on its file backend; cloud stacks use the
configured backend or Pulumi Cloud (issue 9, items 1 and 4).

Pulumi's documented environment (https://www.pulumi.com/docs/iac/cli/environment-variables/):
PULUMI_BACKEND_URL selects the state backend (unset: Pulumi Cloud, with PULUMI_ACCESS_TOKEN);
PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true forbids plugin downloads.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV_SH = ROOT / "scripts" / "env.sh"
NAMES = (
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE_FILE",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION",
    "MENTORA_ENV_STACK",
)


def sourced(tmp_path: Path, script: str = "", **env: str) -> tuple[dict[str, str], str]:
    """The variables of NAMES after `source scripts/env.sh` (+ `script`), and stderr."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "MENTORA_"))}
    printer = "; ".join(f'echo "{n}=${{{n}-<unset>}}"' for n in NAMES)
    result = subprocess.run(
        ["bash", "-c", f'source "{ENV_SH}"; {script} {printer}'],
        env={**base, "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path / "run"), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    values = dict(line.split("=", 1) for line in result.stdout.splitlines())
    return {k: v for k, v in values.items() if v != "<unset>"}, result.stderr


def test_the_local_stack_is_offline_on_its_file_backend(tmp_path: Path) -> None:
    values, _ = sourced(tmp_path, MENTORA_BACKEND_URL="s3://team-state", PULUMI_ACCESS_TOKEN="t")
    assert values["PULUMI_BACKEND_URL"] == f"file://{ROOT}/.pulumi-local/backend"
    assert values["PULUMI_CONFIG_PASSPHRASE_FILE"] == f"{ROOT}/.pulumi-local/passphrase"
    assert values["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert values["MENTORA_ENV_STACK"] == "local"


def test_a_cloud_stack_with_only_a_token_uses_pulumi_cloud(tmp_path: Path) -> None:
    values, stderr = sourced(tmp_path, MENTORA_STACK="dev", PULUMI_ACCESS_TOKEN="pul-x")
    assert "PULUMI_BACKEND_URL" not in values  # no file:// fallback: Pulumi Cloud
    # Pinned plugins only (scripts/install-plugins.sh): a missing one fails at once, offline too.
    assert values["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert "PULUMI_CONFIG_PASSPHRASE_FILE" not in values
    assert values["MENTORA_ENV_STACK"] == "dev" and stderr == ""


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({"MENTORA_BACKEND_URL": "s3://team-state"}, "s3://team-state"),
        ({"PULUMI_BACKEND_URL": "azblob://x", "MENTORA_BACKEND_URL": "s3://y"}, "azblob://x"),
    ],
)
def test_a_cloud_stack_uses_the_configured_backend(
    tmp_path: Path, env: dict[str, str], wanted: str
) -> None:
    values, _ = sourced(tmp_path, MENTORA_STACK="prod", PULUMI_ACCESS_TOKEN="t", **env)
    assert values["PULUMI_BACKEND_URL"] == wanted


def test_switching_from_local_to_cloud_leaves_nothing_local(tmp_path: Path) -> None:
    values, stderr = sourced(tmp_path, "mentora_stack_env dev;")
    assert not any(v.startswith(("file://", str(ROOT))) for v in values.values()), values
    assert re.search(r"stack dev: no PULUMI_BACKEND_URL.*`pulumi login`", stderr)


def test_the_cli_version_is_the_one_the_workflows_pin() -> None:
    pinned = re.search(r'MENTORA_PULUMI_VERSION="(v[\d.]+)"', ENV_SH.read_text())
    assert pinned and pinned.group(1) == "v3.274.1"
