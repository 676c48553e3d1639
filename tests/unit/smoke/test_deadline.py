"""`socket_deadline` ends a read that would block for ever, and leaves a prompt call alone."""

from __future__ import annotations

import socket
import time

import pytest

from smoke.clients.deadline import socket_deadline
from smoke.faults import FaultKind, classify


def test_a_blocked_read_ends_at_the_deadline_as_a_timeout() -> None:
    ours, peer = socket.socketpair()  # the peer never answers: a blackhole
    with ours, peer:
        start = time.perf_counter()
        with pytest.raises(TimeoutError, match="db select 1: no answer within 0.2 s") as caught:  # noqa: SIM117
            with socket_deadline(ours.fileno(), 0.2, "db select 1"):
                ours.recv(1)
        assert 0.15 < time.perf_counter() - start < 1.5
        assert classify(caught.value) is FaultKind.TIMED_OUT


def test_a_driver_error_caused_by_the_cut_becomes_the_timeout() -> None:
    ours, peer = socket.socketpair()
    with ours, peer:
        with pytest.raises(TimeoutError) as caught:  # noqa: SIM117
            with socket_deadline(ours.fileno(), 0.1, "cache ping"):
                if ours.recv(1) == b"":  # how a driver sees the cut socket
                    raise ConnectionError("server closed the connection unexpectedly")
        assert isinstance(caught.value.__cause__, ConnectionError)


def test_a_prompt_call_keeps_its_socket_and_its_own_errors() -> None:
    ours, peer = socket.socketpair()
    with ours, peer:
        peer.sendall(b"x")
        with socket_deadline(ours.fileno(), 0.3, "fast"):
            assert ours.recv(1) == b"x"
        time.sleep(0.4)  # past the deadline: the timer was cancelled, the socket still works
        peer.sendall(b"y")
        assert ours.recv(1) == b"y"
        with pytest.raises(ValueError, match="bad row"), socket_deadline(ours.fileno(), 1, "x"):
            raise ValueError("bad row")
