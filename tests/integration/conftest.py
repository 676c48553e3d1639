"""Fixtures for tests against the real local stack (servers, Pulumi CLI)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.project import LocalProject

INTEGRATION_TIMEOUT_S = 900.0
"""A bound on each test, its module's stack included (the slowest take 2-4 min under load):
a hang is named (every thread's stack) and fails instead of holding the run forever."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.integration)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(INTEGRATION_TIMEOUT_S, method="thread"))


@pytest.fixture(scope="module")
def local_project() -> Iterator[LocalProject]:
    """A project copy whose local stack is destroyed (best effort) when the module ends."""
    if shutil.which("pulumi") is None:
        pytest.fail("pulumi CLI not on PATH: run the tests through `make test` (it bootstraps it)")
    # Not pytest's tmp_path: its 0700 parents would hide the data dir from the postgres user.
    base = Path(tempfile.mkdtemp(prefix="mentora-itest-"))
    base.chmod(0o755)
    project = LocalProject.create(base)
    yield project
    project.run("destroy", "--yes", "--skip-preview", check=False)
    shutil.rmtree(base, ignore_errors=True)
