"""A cloud stack's `pulumi preview` on a machine without its provider plugins (and without
network) fails in seconds with one line naming the plugin and the command that installs it:
no stack trace, no download retried for minutes. The stack (`dev`, its committed settings and
fake secrets) lives in a throwaway file backend; nothing reaches a cloud."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.project import DEAD_PROXY, REPO, copy_code
from stacks.cloud_settings import CLOUD_SECRETS
from tests.unit.cloud_program import FAKE_SECRETS


@pytest.fixture(scope="module")
def dev_copy() -> Iterator[tuple[Path, dict[str, str]]]:
    base = Path(tempfile.mkdtemp(prefix="mentora-cloud-offline-"))
    root = base / "project"
    root.mkdir()
    copy_code(REPO, root, ("Pulumi.yaml", "Pulumi.dev.yaml", "stacks", "components", "supabase"))
    (root / ".venv").symlink_to(REPO / ".venv")
    (base / "backend").mkdir()
    (base / "passphrase").write_text(secrets.token_urlsafe(16))
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{base / 'backend'}",
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(base / "passphrase"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        # What scripts/env.sh sets for a cloud stack (MENTORA_STACK=dev).
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": str(REPO / ".venv" / "bin" / "python"),
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        # An empty plugin folder: this machine has none of the cloud plugins installed.
        "PULUMI_HOME": str(base / "pulumi-home"),
    }
    env.pop("PULUMI_CONFIG_PASSPHRASE", None)
    run = lambda *args: subprocess.run(  # noqa: E731
        ["pulumi", *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert run("stack", "init", "dev", "--secrets-provider", "passphrase").returncode == 0
    for key in CLOUD_SECRETS:
        done = run("config", "set", "--secret", f"mentora:{key}", FAKE_SECRETS[key], "-s", "dev")
        assert done.returncode == 0, done.stderr
    yield root, env
    shutil.rmtree(base, ignore_errors=True)


def test_a_missing_plugin_fails_in_seconds_naming_the_install_command(
    dev_copy: tuple[Path, dict[str, str]],
) -> None:
    root, env = dev_copy
    started = time.monotonic()
    done = subprocess.run(
        ["pulumi", "preview", "-s", "dev", "--non-interactive"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    print(f"\noffline cloud preview failed in {took:.1f}s")
    assert done.returncode != 0
    found = re.search(
        r"pulumi plugin install resource (aws|checkly|random|upstash|vercel) v?[\d.]+", output
    )
    assert found, output[-3000:]
    assert "Traceback" not in output
    assert took < 60, f"took {took:.0f}s: a download was retried instead of failing at once"
