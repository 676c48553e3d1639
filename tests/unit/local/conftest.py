"""Fixtures for the local providers' tests that need no server: ports and state folders."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections for the duration of the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A state folder (stands for mentora:stateDir); providers get `<state_dir>/<service>`."""
    path = tmp_path / "state"
    path.mkdir()
    return path
