"""A Postgres backend that authenticates and then freezes (issue 19, item 7): every session
smoke opens is bounded, so the check fails naming the database within its timeout instead of
blocking its thread (and the run's cleanup) for ever. The server is a few lines of the
frontend/backend protocol (postgresql.org/docs/current/protocol-flow.html): it refuses SSL and
GSS encryption, answers the startup with AuthenticationOk, the usual ParameterStatus messages,
BackendKeyData and ReadyForQuery, then reads every query and never answers one."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smoke.checks.common import connect_postgres
from smoke.failures import CheckFailed
from smoke.outputs import StackOutputs
from tests.unit.smoke.helpers import SMOKE_DIR, dead_outputs, free_port, run_smoke

SSL_REQUEST, GSS_REQUEST = 80877103, 80877104
PARAMETERS = {
    "server_version": "17.0",
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "standard_conforming_strings": "on",
    "DateStyle": "ISO, MDY",
    "integer_datetimes": "on",
    "TimeZone": "UTC",
}


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


def serve_then_freeze(conn: socket.socket, stop: threading.Event) -> None:
    with conn:
        while True:  # encryption requests, then the startup message
            (length,) = struct.unpack("!I", conn.recv(4, socket.MSG_WAITALL))
            body = conn.recv(length - 4, socket.MSG_WAITALL)
            if struct.unpack("!I", body[:4])[0] in (SSL_REQUEST, GSS_REQUEST):
                conn.sendall(b"N")
                continue
            break
        reply = message(b"R", struct.pack("!I", 0))  # AuthenticationOk
        for name, value in PARAMETERS.items():
            reply += message(b"S", f"{name}\0{value}\0".encode())
        reply += message(b"K", struct.pack("!II", 1, 2)) + message(b"Z", b"I")
        conn.sendall(reply)
        conn.settimeout(0.1)
        while not stop.is_set():  # frozen: reads what it is sent, answers nothing
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return


@pytest.fixture
def frozen_postgres() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve_then_freeze, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_a_session_to_a_frozen_backend_fails_within_its_timeout(frozen_postgres: int) -> None:
    outputs = StackOutputs.from_json(dead_outputs(frozen_postgres, 1, 2), "test", "local")
    done: list[BaseException] = []

    def connect() -> None:
        try:
            connect_postgres(outputs, 0.5, {}, autocommit=True)
        except BaseException as exc:
            done.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "connect_postgres still blocked 5 s after a frozen backend"
    assert time.monotonic() - started < 0.5 + 0.5
    assert isinstance(done[0], CheckFailed)
    assert str(done[0]) == (
        f"database: postgres at 127.0.0.1:{frozen_postgres} timed out "
        "(is the local stack up? run: make up)"
    )


def test_every_database_check_names_the_frozen_backend_within_the_timeout(
    tmp_path: Path, frozen_postgres: int
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dead_outputs(frozen_postgres, free_port(), free_port())))
    targets = [SMOKE_DIR / "checks" / "database.py", SMOKE_DIR / "checks" / "security.py"]
    result = run_smoke(tmp_path, *targets, "--outputs-file", outputs, "--check-timeout", "1")
    assert result.ret == 1, result.output
    assert f"database: postgres at 127.0.0.1:{frozen_postgres} timed out" in result.stdout
    assert "hung" not in result.stdout  # bounded by the session's own deadline, not the engine's
    assert result.seconds < 8, result.output
