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
from typing import Any

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


def _old_store(project: LocalProject) -> Any:
    """The old program's S3 store, through the app's key from its env file."""
    import dotenv
    from botocore.session import get_session  # type: ignore[import-untyped]

    env = dotenv.dotenv_values(project.env_file, interpolate=False)
    return get_session().create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{project.ports['storagePort']}",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def test_a_stack_of_the_old_program_upgrades_with_no_replacement(old_project: LocalProject) -> None:
    created = old_project.up()
    assert "12 created" in created.output, created.output[-2000:]
    # Keep the ports of the stack: copy everything but its stack file.
    copy_code(REPO, old_project.root, tuple(n for n in COPIED if n != "Pulumi.local.yaml"))
    old_project.free_ports_for_new_servers()  # servers the old program did not have

    # The old store kept its objects in memory only: the restart the backup bucket needs would
    # drop them. Refused before anything is touched, naming them; an empty store goes on.
    store = _old_store(old_project)
    store.put_object(Bucket="mentora-videos", Key="lesson-1.mp4", Body=b"frames")
    before = old_project.resources()
    refused = old_project.run("up", "--yes", check=False)  # its preview runs every diff first
    assert refused.returncode != 0 and old_project.resources() == before
    assert "1 object(s) of bucket mentora-videos" in refused.output, refused.output[-3000:]
    assert "aws s3 sync s3://mentora-videos" in refused.output
    assert store.get_object(Bucket="mentora-videos", Key="lesson-1.mp4")["Body"].read() == b"frames"
    store.delete_object(Bucket="mentora-videos", Key="lesson-1.mp4")

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
