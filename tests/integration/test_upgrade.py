"""An existing local stack upgrades to this program with no replacement and keeps its data.

The stack is created by the program as it was before components were split per backend
(commit BEFORE_ONE_SHAPE: one `Database`/`Cache`/`Storage`/`DeployTarget` that branched on the
backend), then the current program is copied over it: the aliases must make the engine adopt
every resource, so `preview` shows no replace and `up --refresh` changes nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.project import COPIED, REPO, LocalProject, copy_code

BEFORE_ONE_SHAPE = "29f8e5d"


@pytest.fixture(scope="module")
def old_project() -> Iterator[LocalProject]:
    have = subprocess.run(
        ["git", "cat-file", "-e", f"{BEFORE_ONE_SHAPE}^{{commit}}"], cwd=REPO, check=False
    )
    if have.returncode != 0:
        pytest.skip(f"commit {BEFORE_ONE_SHAPE} is not in this clone (shallow?): cannot upgrade")
    base = Path(tempfile.mkdtemp(prefix="mentora-upgrade-"))
    base.chmod(0o755)  # the postgres service user must reach the data dir
    old_source = base / "old"
    old_source.mkdir()
    present = [
        name
        for name in COPIED
        if subprocess.run(
            ["git", "cat-file", "-e", f"{BEFORE_ONE_SHAPE}:{name}"],
            cwd=REPO,
            check=False,
            stderr=subprocess.DEVNULL,
        ).returncode
        == 0
    ]
    archive = subprocess.run(
        ["git", "archive", BEFORE_ONE_SHAPE, *present], cwd=REPO, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(old_source)], input=archive.stdout, check=True)
    project = LocalProject.create(base, source=old_source)
    try:
        yield project
    finally:
        project.run("destroy", "--yes", "--skip-preview", check=False)
        shutil.rmtree(base, ignore_errors=True)


def test_a_stack_of_the_old_program_upgrades_with_no_replacement(old_project: LocalProject) -> None:
    created = old_project.up()
    assert "12 created" in created.output, created.output[-2000:]
    # Keep the ports of the stack: copy everything but its stack file.
    copy_code(REPO, old_project.root, tuple(n for n in COPIED if n != "Pulumi.local.yaml"))
    old_project.free_ports_for_new_servers()  # servers the old program did not have

    preview = old_project.run("preview", "--diff", "--refresh")
    # Adopted, not replaced: the old resources are updated at most (the app's env gained
    # variables since) and the servers the old program did not have are created.
    assert "replace" not in preview.output.lower(), preview.output[-3000:]
    assert "delete" not in preview.output.lower(), preview.output[-3000:]
    upgraded = old_project.up("--refresh")
    assert "replace" not in upgraded.output.lower(), upgraded.output[-3000:]
    again = old_project.up("--refresh")
    assert "unchanged" in again.output and "updated" not in again.output, again.output[-3000:]
    assert "mentora:infra:LocalDatabase" in old_project.run("stack", "--show-urns").output
    smoke = old_project.smoke()
    assert smoke.returncode == 0, smoke.output[-3000:]
