"""SeaweedFS `weed mini` as a persistent local S3 store: its command line (every port on
127.0.0.1 and chosen by us, telemetry off, no WebDAV or admin UI), its S3 identities file, and a
measurement run (`python -m devtools.seaweedfs`: start time, RSS, the S3 calls smoke makes,
objects across SIGTERM and SIGKILL restarts). Flags from weed/command/mini.go at the pinned
pseudo-version; identities format from docker/compose/s3.json of the same module.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools import s3_coverage as cov
from devtools.toxiproxy import HOST, free_port

MODULE = "github.com/seaweedfs/seaweedfs"
VERSION = "v0.0.0-20261109003541-7506e5f91cd6"  # the proxy's @latest on 2026-12-02 (weed 4.53)
# Every listener `weed mini` opens; unset ones fall back to fixed defaults (9333, 8888, 8333,
# 12535, 23646 and +10000 for gRPC) that collide between two stacks on one machine.
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)
# What the app's key needs for every call smoke makes: GetPublicAccessBlock is gated on Admin
# and GetBucketAcl on ReadAcp (weed/s3api/s3api_server.go routes).
APP_ACTIONS = ("Read", "Write", "List", "ReadAcp", "Admin")


@dataclass
class WeedMini:
    """One `weed mini` process: its data dir, ports and S3 identities (admin + app key)."""

    binary: Path
    data_dir: Path
    bucket: str
    ports: dict[str, int] = field(default_factory=lambda: {f: free_port() for f in PORT_FLAGS})
    app_key: tuple[str, str] = field(
        default_factory=lambda: (
            "MENTORA" + secrets.token_hex(6).upper(),
            secrets.token_urlsafe(30),
        )
    )
    admin_key: tuple[str, str] = field(
        default_factory=lambda: ("ADMIN" + secrets.token_hex(7).upper(), secrets.token_urlsafe(30))
    )
    proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.ports['s3.port']}"

    def identities(self) -> dict[str, Any]:
        """The `-s3.config` document; with identities set, anonymous requests are denied."""

        def identity(name: str, key: tuple[str, str], actions: list[str]) -> dict[str, Any]:
            creds = [{"accessKey": key[0], "secretKey": key[1]}]
            return {"name": name, "credentials": creds, "actions": actions}

        return {
            "identities": [
                identity("admin", self.admin_key, ["Admin", "Read", "Write", "List", "Tagging"]),
                identity("mentora-app", self.app_key, [f"{a}:{self.bucket}" for a in APP_ACTIONS]),
            ]
        }

    def command(self) -> list[str]:
        config = self.data_dir / "s3.json"
        command = [str(self.binary), "mini", f"-dir={self.data_dir}", f"-ip={HOST}"]
        command += [f"-ip.bind={HOST}", "-master.telemetry=false", "-webdav=false"]
        command += ["-admin.ui=false", "-admin.port.legacy=0", "-s3.port.iceberg=0"]
        command += ["-s3.port.lance=0", f"-s3.config={config}", f"-bucket={self.bucket}"]
        return command + [f"-{flag}={port}" for flag, port in self.ports.items()]

    def start(self, deadline_s: float = 60.0) -> float:
        """Start and wait until the app's key can HEAD the bucket; seconds it took."""
        config = self.data_dir / "s3.json"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.identities(), out)
        start = time.perf_counter()
        with open(self.data_dir / "weed.log", "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        client = cov.client(self.endpoint, *self.app_key)
        while time.perf_counter() - start < deadline_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited {self.proc.returncode}; see {self.data_dir}")
            try:
                client.head_bucket(Bucket=self.bucket)
            except (BotoCoreError, ClientError):  # not listening yet, or the bucket not made
                time.sleep(0.1)
            else:
                return time.perf_counter() - start
        raise RuntimeError(f"weed mini not ready within {deadline_s} s; see {self.data_dir}")

    def stop(self, kill: bool = False) -> float:
        """SIGTERM (or SIGKILL) and wait; seconds it took."""
        assert self.proc is not None
        start = time.perf_counter()
        self.proc.kill() if kill else self.proc.terminate()
        self.proc.wait(timeout=30)
        return time.perf_counter() - start

    def rss_mb(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0


def main(binary: Path) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="mentora-weed-"))
    weed = WeedMini(binary, data_dir, "mentora-videos")
    try:
        ready = weed.start()
        admin = cov.client(weed.endpoint, *weed.admin_key)
        flags = (
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets",
        )
        admin.put_public_access_block(
            Bucket=weed.bucket, PublicAccessBlockConfiguration=dict.fromkeys(flags, True)
        )
        cov.emit(store="seaweedfs", ready_s=round(ready, 2), rss_mb=weed.rss_mb())
        for row in cov.coverage(weed.endpoint, weed.bucket, *weed.app_key):
            cov.emit(store="seaweedfs", **row)
        cov.put_marker(weed.endpoint, weed.bucket, *weed.app_key)
        for kill in (False, True):
            stopped = weed.stop(kill=kill)
            ready = weed.start()
            kept = cov.marker_survived(weed.endpoint, weed.bucket, *weed.app_key)
            timing = {"stop_s": round(stopped, 2), "ready_s": round(ready, 2)}
            cov.emit(store="seaweedfs", kill=kill, **timing, object_after_restart=kept)
    finally:
        if weed.proc is not None and weed.proc.poll() is None:
            weed.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ["WEED_BIN"]))
