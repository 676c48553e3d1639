"""On real servers started by their providers: each is recorded as ours right after it is ready,
its listener is one of its recorded processes, a stranger planted in its pid file after a crash
is never signalled while the server is healed, and a SIGSTOPped server is healed at once (issue
17: 7 of 7 planted strangers were signalled before, the heal waited on a graceful stop)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from components.local import ownership, processes
from components.local.postgres_server import PostgresProvider
from components.local.redis_server import RedisProvider
from components.local.s3_server import S3Provider
from components.local.server_provider import LocalServerProvider
from devtools.ports import free_port
from tests.integration.local.conftest import kill_hard

PROVIDERS: dict[str, type[LocalServerProvider[Any]]] = {
    "postgres": PostgresProvider,
    "redis": RedisProvider,
    "storage": S3Provider,
}


@pytest.mark.parametrize("service", sorted(PROVIDERS))
def test_a_crashed_server_is_healed_and_the_stranger_in_its_pid_file_untouched(
    service: str, state_dir: Path
) -> None:
    provider = PROVIDERS[service]()
    port = free_port()
    data_dir = state_dir / service
    props = {"port": port, "data_dir": str(data_dir)}
    outs = provider.create(props).outs
    owner = ownership.Owner.load(data_dir)
    assert owner is not None and owner.process() is not None
    assert ownership.listener(port) in {p.pid for p in owner.processes()}
    stranger = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "-p", str(port), str(data_dir)],
        start_new_session=True,
    )
    try:
        kill_hard(owner.pid, group=True)
        (data_dir / provider.PID_FILE).write_text(f"{stranger.pid}\n")
        read = provider.read(f"{service}-{port}", outs)
        assert read.outs["running"] is False
        healed = provider.update(read.id or "", read.outs, props).outs
        assert healed["running"] is True
        assert provider.probe(provider.settings(props), provider.kept_secrets(healed))
        provider.delete(f"{service}-{port}", healed)
        assert not processes.port_open(port) and not data_dir.exists()
        assert stranger.poll() is None, "the stranger was signalled"
    finally:
        stranger.kill()
        stranger.wait()


def test_a_stopped_server_is_killed_and_restarted_without_a_graceful_wait(
    state_dir: Path,
) -> None:
    provider, port = PostgresProvider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "postgres")}
    outs = provider.create(props).outs
    owner = ownership.Owner.load(state_dir / "postgres")
    assert owner is not None
    os.kill(owner.pid, signal.SIGSTOP)
    try:
        read = provider.read(f"postgres-{port}", outs)
        assert read.outs["running"] is False
        started = time.monotonic()
        healed = provider.update(read.id or "", read.outs, props).outs
        took = time.monotonic() - started
        print(f"postgres healed from SIGSTOP in {took:.2f}s")
        assert healed["running"] is True
        assert not ownership.pid_alive(owner.pid)
        # No graceful wait: a stop that waited out its grace would take at least GRACE_S.
        assert took < ownership.GRACE_S
    finally:
        if ownership.pid_alive(owner.pid):
            os.kill(owner.pid, signal.SIGCONT)
        provider.delete(f"postgres-{port}", {**outs, **props})
