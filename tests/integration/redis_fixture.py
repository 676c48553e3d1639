"""A throwaway password-less redis-server on a free loopback port, for tests of Redis logic."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.local.errors import LocalServerError
from components.local.processes import wait_for_port
from devtools.ports import free_port


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a fresh redis-server that lives as long as the test module."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server missing: run the tests through `make test` (bootstrap installs it)"
        )
    port, workdir = free_port(), Path(tmp_path_factory.mktemp("redis"))
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("redis", port, deadline_s=5)
    except LocalServerError as exc:
        proc.kill()
        pytest.fail(str(exc))
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=5)
