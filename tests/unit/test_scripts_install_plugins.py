"""scripts/install-plugins.sh with a fake `pulumi` on PATH (issue 9, item 1).

The commands are Pulumi's documented ones (https://www.pulumi.com/docs/iac/cli/commands/
pulumi_plugin_install/ and pulumi_plugin_ls: `--json` lists {name, kind, version}); the upstash
plugin comes from its own server, as the upstash SDK installs it (upstash/pulumi-upstash
sdk/python setup.py: `pulumi plugin install resource upstash <v> --server
github://api.github.com/upstash/pulumi-upstash`). Every other plugin comes from the server its
SDK names in its `pulumi-plugin.json` (issue 20, item 7: pulumiverse_vercel names
`github://api.github.com/pulumiverse`), read here from the installed SDK packages.
"""

from __future__ import annotations

import json
import os
import subprocess
from importlib.resources import files
from pathlib import Path

import pytest

from components.cloud.providers import PLUGIN_SERVERS, PLUGIN_VERSIONS

# Plugin name -> the Python package of its SDK (pyproject.toml pins).
SDKS = {
    "aws": "pulumi_aws",
    "random": "pulumi_random",
    "upstash": "upstash_pulumi",
    "vercel": "pulumiverse_vercel",
}

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-plugins.sh"
FAKE_PULUMI = r"""#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
if [[ "$1 $2" == "plugin ls" ]]; then cat "$FAKE_STATE"; exit 0; fi
if [[ "$1 $2" == "plugin install" ]]; then
  if [[ -n "${FAKE_OFFLINE:-}" ]]; then
    echo "error: failed to download plugin: $4-$5:" \
      "dial tcp: lookup api.github.com: no such host" >&2
    exit 255
  fi
  python3 "$(dirname "$0")/add.py" "$FAKE_STATE" "$4" "$5"
  exit 0
fi
exit 3
"""
ADD_PLUGIN = """import json, sys
path, name, version = sys.argv[1:]
state = json.load(open(path))
state.append({"name": name, "kind": "resource", "version": version})
json.dump(state, open(path, "w"))
"""


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    (bin_dir / "add.py").write_text(ADD_PLUGIN)
    state = tmp_path / "state.json"
    if not state.exists():
        state.write_text("[]")
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "FAKE_LOG": str(tmp_path / "log"),
            "FAKE_STATE": str(state),
            **env,
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def log(tmp_path: Path) -> list[str]:
    path = tmp_path / "log"
    return path.read_text().splitlines() if path.exists() else []


def sdk_plugin(name: str) -> dict[str, object]:
    """The installed SDK's own `pulumi-plugin.json` (what `pulumi` reads to acquire it)."""
    return dict(json.loads(files(SDKS[name]).joinpath("pulumi-plugin.json").read_text()))


def test_installs_every_pinned_plugin_from_the_server_its_sdk_names(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr
    installs = [line for line in log(tmp_path) if line.startswith("plugin install")]
    expected = []
    for name, version in PLUGIN_VERSIONS.items():
        server = sdk_plugin(name).get("server")
        expected.append(
            f"plugin install resource {name} {version}" + (f" --server {server}" if server else "")
        )
    assert sorted(installs) == sorted(expected)
    assert set(PLUGIN_VERSIONS) == set(SDKS)
    # The vercel SDK names its server: the case issue 20 found missing.
    assert sdk_plugin("vercel")["server"] == "github://api.github.com/pulumiverse"


def test_a_second_run_skips_what_is_installed(tmp_path: Path) -> None:
    assert run(tmp_path).returncode == 0
    (tmp_path / "log").unlink()
    again = run(tmp_path)
    assert again.returncode == 0
    assert log(tmp_path) == ["plugin ls --json"]
    assert again.stderr.count("already installed") == len(PLUGIN_VERSIONS)


def test_another_installed_version_does_not_count(tmp_path: Path) -> None:
    state = [{"name": "aws", "kind": "resource", "version": "6.0.0"}]
    (tmp_path / "state.json").write_text(json.dumps(state))
    assert run(tmp_path).returncode == 0
    assert f"plugin install resource aws {PLUGIN_VERSIONS['aws']}" in log(tmp_path)


def test_offline_prints_one_line_naming_the_plugin_and_the_command(tmp_path: Path) -> None:
    result = run(tmp_path, FAKE_OFFLINE="1")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("install-plugins: cannot download the ")
    assert "network unreachable" in lines[-1] and "run: pulumi plugin install resource" in lines[-1]
    assert [line for line in lines if "cannot download" in line] == [lines[-1]]
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("installed", [False, True])
def test_check_installs_nothing_and_names_the_missing_plugin(
    tmp_path: Path, installed: bool
) -> None:
    if installed:
        assert run(tmp_path).returncode == 0
    (tmp_path / "log").write_text("")
    result = run(tmp_path, "--check")
    assert [line for line in log(tmp_path) if "install" in line] == []
    if installed:
        assert result.returncode == 0
    else:
        assert result.returncode == 2
        assert "is not installed; run: pulumi plugin install resource" in result.stderr


def test_the_providers_download_from_the_servers_the_sdks_name() -> None:
    # The provider resources' `plugin_download_url` (components/cloud/providers.py) is the same
    # server: a preview that acquires a plugin fetches it where `pulumi plugin install` does.
    named = {n: str(sdk_plugin(n)["server"]) for n in SDKS if sdk_plugin(n).get("server")}
    assert named == PLUGIN_SERVERS


def test_the_programs_missing_plugin_hint_is_the_scripts_own_command(tmp_path: Path) -> None:
    # stacks/plugins.py names one install command when a plugin is missing: it must be the one
    # that works, i.e. the script's, with the SDK's server.
    from stacks.plugins import install_command

    assert run(tmp_path).returncode == 0
    installs = sorted(line for line in log(tmp_path) if line.startswith("plugin install"))
    hinted = sorted(
        install_command(name, version, PLUGIN_SERVERS).removeprefix("pulumi ")
        for name, version in PLUGIN_VERSIONS.items()
    )
    assert hinted == installs
