"""devtools.ports: a port handed to one test process is never handed to another while the
first lives (a session-long shared stack outlives any fixed claim time: its port, free for a
moment while a fault test restarts its server, was handed to a second stack)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from devtools import ports


def _bindable() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def one_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    port = _bindable()
    monkeypatch.setattr(ports, "CLAIMS", tmp_path)
    monkeypatch.setattr(ports, "PORTS", range(port, port + 1))
    monkeypatch.setattr(ports, "ATTEMPTS", 3)
    return port


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_port_is_handed_out_once(one_port: int) -> None:
    assert ports.free_port() == one_port
    with pytest.raises(RuntimeError, match="no unclaimed free port"):
        ports.free_port()


def test_an_old_claim_of_a_live_claimer_still_holds(one_port: int) -> None:
    assert ports.free_port() == one_port
    _age(ports.CLAIMS / str(one_port), ports.CLAIM_S + 60)
    with pytest.raises(RuntimeError, match="no unclaimed free port"):
        ports.free_port()


def test_an_old_claim_of_a_dead_claimer_is_taken_over(one_port: int) -> None:
    claim = ports.CLAIMS / str(one_port)
    claim.write_text("999999999 0\n")  # no such pid: its claimer is gone
    with pytest.raises(RuntimeError):
        ports.free_port()  # young: a stack it started may not have bound yet
    _age(claim, ports.CLAIM_S + 60)
    assert ports.free_port() == one_port
