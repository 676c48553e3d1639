"""On real servers (Postgres run as its service user, Redis, the S3 store, a uvicorn app):
`find_listener` names the pid that was started, its identity holds while it runs and names its
data dir as cwd, and after it stops the recorded identity no longer matches."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from components.local.process_identity import ProcessIdentity, find_listener
from devtools.fault_servers import FaultServers, fault_servers

KINDS = ("postgres", "redis", "s3", "app")


@pytest.fixture(scope="module")
def servers() -> Iterator[FaultServers]:
    with fault_servers(*KINDS) as running:
        yield running


@pytest.mark.parametrize("kind", KINDS)
def test_listener_is_the_started_pid_and_its_identity_holds(
    servers: FaultServers, kind: str
) -> None:
    pid = find_listener(servers.ports[kind])
    assert pid == servers.pids[kind]
    identity = ProcessIdentity.capture(pid)
    time.sleep(0.2)
    assert identity.matches()
    assert identity.exe is not None
    if kind == "postgres":
        assert identity.cwd == str(servers.root / "pg" / "data")  # the postmaster's pgdata
    if kind == "redis":
        assert identity.cwd == str(servers.root)  # redis chdirs into its `dir`


def test_a_stopped_server_no_longer_matches(servers: FaultServers) -> None:
    pid = servers.pids["redis"]
    identity = ProcessIdentity.capture(pid)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while identity.matches() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not identity.matches()
    assert find_listener(servers.ports["redis"]) is None
