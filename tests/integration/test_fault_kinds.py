"""Each real client, through Toxiproxy in front of a real server, fails the way docs/faults.md
says and `smoke.faults.classify` names it: blackhole -> timed out within the client's timeout,
reset_peer -> reset, proxy down -> refused. Guards the classification against driver upgrades."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devtools import measure_faults as probes
from devtools import toxiproxy as tp
from devtools.fault_servers import FaultServers, fault_servers
from smoke.faults import FaultKind, classify

BINARY = tp.toxiproxy_binary()
pytestmark = pytest.mark.skipif(
    not os.access(BINARY, os.X_OK),
    reason=f"no toxiproxy-server at {BINARY} (set TOXIPROXY_BIN or run scripts/bootstrap.sh)",
)
TIMEOUT_S = 1.0
CLIENTS: dict[str, tuple[str, Callable[..., Any]]] = {
    "psycopg": ("postgres", probes.postgres),  # connect_timeout floors at 2 s
    "redis-py": ("redis", probes.redis),
    "boto3": ("s3", probes.s3),
    "httpx": ("app", probes.http),
}
FAULTS: dict[str, tuple[tp.Toxic | None, FaultKind]] = {
    "blackhole": (tp.timeout(0, stream="upstream"), FaultKind.TIMED_OUT),
    "reset_peer": (tp.reset_peer(0), FaultKind.RESET),
    "proxy down": (None, FaultKind.REFUSED),
}


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[FaultServers, tp.ToxiproxyClient]]:
    with (
        fault_servers("postgres", "redis", "s3", "app") as servers,
        tp.ToxiproxyServer(BINARY) as toxi,
    ):
        for kind, port in servers.ports.items():
            toxi.client.create_proxy(kind, upstream=f"127.0.0.1:{port}")
        yield servers, toxi.client


@pytest.mark.parametrize("client", list(CLIENTS))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_is_named(
    stack: tuple[FaultServers, tp.ToxiproxyClient], client: str, fault: str
) -> None:
    servers, toxiproxy = stack
    kind, probe = CLIENTS[client]
    toxic, expected = FAULTS[fault]
    call = functools.partial(probe, servers, toxiproxy.get_proxy(kind).port, TIMEOUT_S)
    call()  # healthy through the proxy first: the fault, not the setup, makes it fail
    start = time.perf_counter()
    try:
        if toxic is None:
            toxiproxy.set_enabled(kind, False)
        else:
            toxiproxy.add_toxic(kind, toxic)
        with pytest.raises(Exception) as caught:  # noqa: B017 (any driver error; named below)
            call()
    finally:
        toxiproxy.reset()  # enables every proxy and removes every toxic
    elapsed = time.perf_counter() - start
    assert classify(caught.value) is expected, f"{type(caught.value)}: {caught.value}"
    assert elapsed < max(2.0, TIMEOUT_S) + 1.0, f"{client} took {elapsed:.1f} s to fail"


def test_open_postgres_connection_through_a_blackhole_ends_at_the_deadline(
    stack: tuple[FaultServers, tp.ToxiproxyClient],
) -> None:
    # Without a client-side deadline this query blocks for ever: statement_timeout is enforced
    # by the server, which never receives it (docs/faults.md, "reused connections").
    import psycopg

    from smoke.clients.deadline import socket_deadline

    servers, toxiproxy = stack
    conn = psycopg.connect(
        host="127.0.0.1",
        port=toxiproxy.get_proxy("postgres").port,
        user="postgres",
        password=servers.password,
        dbname="postgres",
        connect_timeout=2,
        options="-c statement_timeout=1000",
        autocommit=True,
    )
    with conn:
        conn.execute("select 1")
        start = time.perf_counter()
        try:
            with toxiproxy.toxic("postgres", tp.timeout(0, stream="upstream")):  # noqa: SIM117
                with pytest.raises(TimeoutError) as caught:
                    with socket_deadline(conn.pgconn.socket, TIMEOUT_S, "database select 1"):
                        conn.execute("select 1")
        finally:
            toxiproxy.reset()
        assert time.perf_counter() - start < TIMEOUT_S + 1.0
        assert classify(caught.value) is FaultKind.TIMED_OUT
        assert conn.closed  # psycopg saw the cut socket: the connection is not reused
