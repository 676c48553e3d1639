"""Measure how each client fails under each network fault (through Toxiproxy) and against a
frozen (SIGSTOPped) server: the exception, its message, the time to fail and how smoke's
`what_happened` and `smoke.faults.classify` name it. Prints one JSON object per line.

Usage: python -m devtools.measure_faults [toxiproxy|sigstop|readiness|reused]...
(the Toxiproxy binary comes from TOXIPROXY_BIN or the tools cache; see devtools.toxiproxy).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from devtools import toxiproxy as tp
from devtools.fault_servers import FaultServers, fault_servers

TIMEOUT_S = 2.0
FAULTS: dict[str, tp.Toxic | None] = {
    "healthy": None,
    "latency 100±20 ms": tp.latency(100, jitter_ms=20),
    "timeout 0 (blackhole)": tp.timeout(0),
    "timeout 0 upstream": tp.timeout(0, stream="upstream"),
    "reset_peer 0": tp.reset_peer(0),
    "reset_peer 500 ms": tp.reset_peer(500),
    "limit_data 100 B": tp.limit_data(100),
    "bandwidth 1 KB/s": tp.bandwidth(1),
    "slow_close 3 s": tp.slow_close(3000),
}
Probe = Callable[[FaultServers, int], Any]


def postgres(servers: FaultServers, port: int, timeout_s: float = TIMEOUT_S) -> Any:
    import psycopg

    ms = int(timeout_s * 1000)
    with psycopg.connect(
        host="127.0.0.1",
        port=port,
        user="postgres",
        password=servers.password,
        dbname="postgres",
        connect_timeout=max(1, round(timeout_s)),
        options=f"-c statement_timeout={ms}",
        autocommit=True,
    ) as conn:
        return conn.execute("select 1").fetchone()


def postgres_big(servers: FaultServers, port: int) -> Any:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1",
        port=port,
        user="postgres",
        password=servers.password,
        dbname="postgres",
        connect_timeout=2,
        options="-c statement_timeout=2000",
    ) as conn:
        return len(conn.execute("select repeat('x', 20000)").fetchone()[0])  # type: ignore[index]


def redis(servers: FaultServers, port: int, timeout_s: float = TIMEOUT_S) -> Any:
    import redis as redis_py
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis_py.Redis(
        host="127.0.0.1",
        port=port,
        password=servers.password,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        return client.ping()
    finally:
        client.close()


def s3(servers: FaultServers, port: int, timeout_s: float = TIMEOUT_S, attempts: int = 1) -> Any:
    client: Any = servers.s3_client(port, timeout_s, attempts)
    return client.head_bucket(Bucket="faults")["ResponseMetadata"]["HTTPStatusCode"]


def s3_two_attempts(servers: FaultServers, port: int) -> Any:
    return s3(servers, port, attempts=2)


def http(servers: FaultServers, port: int, timeout_s: float = TIMEOUT_S, path: str = "/api/health"):
    import httpx

    response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=timeout_s)
    response.raise_for_status()
    return response.status_code


PROBES: dict[str, tuple[str, Probe]] = {
    "postgres select 1": ("postgres", postgres),
    "postgres 20 KB row": ("postgres", postgres_big),
    "redis PING": ("redis", redis),
    "s3 HEAD bucket (1 attempt)": ("s3", s3),
    "s3 HEAD bucket (2 attempts)": ("s3", s3_two_attempts),
    "http GET /api/health": ("app", http),
    "http GET 20 KB": ("app", lambda s, p: http(s, p, path="/big")),
}


def measure(call: Callable[[], Any]) -> dict[str, Any]:
    """Run `call`; its result or exception, the time it took, and how smoke names a failure."""
    from smoke.checks.common import what_happened
    from smoke.faults import classify

    start = time.perf_counter()
    try:
        result = call()
    except Exception as exc:
        row: dict[str, Any] = {
            "s": round(time.perf_counter() - start, 2),
            "exc": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "msg": " ".join(str(exc).split())[:220],
            "what_happened": what_happened(exc),
            "classify": classify(exc).value,
        }
        return row
    return {"s": round(time.perf_counter() - start, 2), "ok": repr(result)}


def emit(**row: Any) -> None:
    print(json.dumps(row), flush=True)


def through_toxiproxy(only: list[str]) -> None:
    with (
        fault_servers("postgres", "redis", "s3", "app") as servers,
        tp.ToxiproxyServer(tp.toxiproxy_binary()) as toxi,
    ):
        client = toxi.client
        for kind, port in servers.ports.items():
            client.create_proxy(kind, upstream=f"127.0.0.1:{port}")
        for fault, toxic in FAULTS.items():
            if only and fault not in only:
                continue
            for probe_name, (kind, probe) in PROBES.items():
                proxy = client.get_proxy(kind)
                if toxic is None:
                    row = measure(lambda: probe(servers, proxy.port))  # noqa: B023
                else:
                    with client.toxic(kind, toxic):
                        row = measure(lambda: probe(servers, proxy.port))  # noqa: B023
                emit(mode="toxiproxy", fault=fault, probe=probe_name, **row)
        for kind in servers.ports:
            client.set_enabled(kind, False)
        for probe_name, (kind, probe) in PROBES.items():
            port = client.get_proxy(kind).port
            emit(
                mode="toxiproxy",
                fault="proxy disabled",
                probe=probe_name,
                **measure(
                    lambda: probe(servers, port)  # noqa: B023
                ),
            )


def sigstopped(readiness: bool) -> None:
    timeouts = (1.0, 2.0) if readiness else (TIMEOUT_S,)
    with fault_servers("postgres", "redis", "s3", "app") as servers:
        for probe_name, (kind, probe) in PROBES.items():
            if "20 KB" in probe_name or (readiness and "2 attempts" in probe_name):
                continue
            port = servers.ports[kind]
            servers.freeze(kind)
            try:
                for timeout_s in timeouts:
                    if readiness:
                        call = lambda: probe(servers, port, timeout_s)  # type: ignore[call-arg]  # noqa: E731, B023
                    else:
                        call = lambda: probe(servers, port)  # noqa: E731, B023
                    emit(
                        mode="readiness" if readiness else "sigstop",
                        probe=probe_name,
                        timeout_s=timeout_s,
                        **measure(call),
                    )
            finally:
                servers.thaw(kind)
            emit(mode="after SIGCONT", probe=probe_name, **measure(lambda: probe(servers, port)))  # noqa: B023


def _reused_clients(servers: FaultServers, ports: dict[str, int]) -> dict[str, Callable[[], Any]]:
    """One long-lived client per service (as smoke's fixtures keep them): a call on each."""
    import httpx
    import psycopg
    import redis as redis_py
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    pg = psycopg.connect(
        host="127.0.0.1",
        port=ports["postgres"],
        user="postgres",
        password=servers.password,
        dbname="postgres",
        connect_timeout=2,
        options="-c statement_timeout=2000",
        autocommit=True,
    )
    cache = redis_py.Redis(
        host="127.0.0.1",
        port=ports["redis"],
        password=servers.password,
        socket_timeout=TIMEOUT_S,
        socket_connect_timeout=TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
    )
    s3_client: Any = servers.s3_client(ports["s3"])
    web = httpx.Client(timeout=TIMEOUT_S)
    return {
        "postgres select 1 (open connection)": lambda: pg.execute("select 1").fetchone(),
        "redis PING (open connection)": cache.ping,
        "s3 HEAD bucket (same client)": lambda: s3_client.head_bucket(Bucket="faults"),
        "http GET /api/health (same client)": lambda: web.get(
            f"http://127.0.0.1:{ports['app']}/api/health"
        ).raise_for_status(),
    }


def reused(watchdog_s: float = 10.0) -> None:
    """Faults that hit a connection opened before them; a call still blocked after
    `watchdog_s` is reported as hung (the fault is then lifted so it can finish)."""
    import threading

    faults = {
        "timeout 0 upstream": tp.timeout(0, stream="upstream"),
        "reset_peer 0": tp.reset_peer(0),
    }
    with (
        fault_servers("postgres", "redis", "s3", "app") as servers,
        tp.ToxiproxyServer(tp.toxiproxy_binary()) as toxi,
    ):
        client = toxi.client
        ports = {
            k: client.create_proxy(k, upstream=f"127.0.0.1:{p}").port
            for k, p in servers.ports.items()
        }
        for fault, toxic in faults.items():
            calls = _reused_clients(servers, ports)
            for name, call in calls.items():
                call()  # the connection is open and healthy
                kind = name.split()[0].replace("http", "app")
                result: dict[str, Any] = {}
                with client.toxic(kind, toxic):
                    worker = threading.Thread(target=lambda: result.update(measure(call)))  # noqa: B023
                    worker.start()
                    worker.join(watchdog_s)
                hung = worker.is_alive()
                worker.join(30)
                row = {"hung_over_s": watchdog_s} if hung else result
                emit(mode="reused", fault=fault, probe=name, **row)
        # SIGSTOP of the postmaster: an open backend connection is not affected.
        pg = _reused_clients(servers, servers.ports)["postgres select 1 (open connection)"]
        pg()
        servers.freeze("postgres")
        try:
            emit(mode="reused sigstop", probe="postgres select 1 (open connection)", **measure(pg))
            emit(
                mode="reused sigstop",
                probe="postgres new connection",
                **measure(lambda: postgres(servers, servers.ports["postgres"])),
            )
        finally:
            servers.thaw("postgres")


if __name__ == "__main__":
    modes = sys.argv[1:] or ["toxiproxy", "sigstop", "readiness"]
    for mode in modes:
        if mode.startswith("toxiproxy"):  # toxiproxy=fault name,fault name
            through_toxiproxy([f for f in mode.partition("=")[2].split(",") if f])
        elif mode == "reused":
            reused()
        else:
            sigstopped(readiness=mode == "readiness")
