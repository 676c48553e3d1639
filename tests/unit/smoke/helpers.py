"""Shared builders for the smoke suite's tests (no servers)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.ports import free_port as free_port  # one definition, shared

SMOKE_DIR = Path(__file__).resolve().parents[3] / "smoke"
PG_PASSWORD = "FakePgPassw0rd-7d1c"
REDIS_PASSWORD = "FakeRedisPassw0rd-91ab"
AWS_KEY_ID = "AKIAFAKEKEYID0123456"
AWS_SECRET = "FakeAwsSecretKey/qwerty+42"
SERVICE_ROLE_KEY = "eyJFakeServiceRoleKey.abc"
FAKE_SECRETS = (PG_PASSWORD, REDIS_PASSWORD, AWS_KEY_ID, AWS_SECRET, SERVICE_ROLE_KEY)


def dead_outputs(pg: int, redis: int, s3: int, **overrides: Any) -> dict[str, Any]:
    """A full outputs contract pointing at the given ports, with fake secrets."""
    database_url = f"postgresql://mentora_app:{PG_PASSWORD}@127.0.0.1:{pg}/mentora"
    redis_url = f"redis://default:{REDIS_PASSWORD}@127.0.0.1:{redis}/0"
    outputs: dict[str, Any] = {
        "target": "local",
        "database_url": database_url,
        "redis_url": redis_url,
        "bucket_name": "mentora-videos",
        "storage_endpoint": f"http://127.0.0.1:{s3}",
        "storage_region": "us-east-1",
        "env": {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
            "SUPABASE_SERVICE_ROLE_KEY": SERVICE_ROLE_KEY,
            "AWS_REGION": "us-east-1",
            "NODE_ENV": "development",
        },
    }
    outputs.update(overrides)
    return outputs


@dataclass(frozen=True)
class SmokeRun:
    """A finished child pytest run of the smoke suite."""

    ret: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_smoke(cwd: Path, *args: str | Path, timeout: float = 60) -> SmokeRun:
    """Run `python -m pytest <repo>/smoke *args` in a child process from `cwd`; a path argument
    ending in `.py` or `smoke` replaces the default target."""
    argv = [str(a) for a in args]
    if not any(a.endswith((".py", "smoke")) for a in argv):
        argv.insert(0, str(SMOKE_DIR))
    command = [sys.executable, "-m", "pytest", *argv, "-p", "no:cacheprovider"]
    start = time.monotonic()
    proc = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    return SmokeRun(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)


def leaked(text: str, secrets: tuple[str, ...] = FAKE_SECRETS) -> list[str]:
    """The secrets (or an 8-character piece of one) found in `text`."""
    return [s for s in secrets if s in text or any(s[i : i + 8] in text for i in range(len(s) - 7))]


def smoke_checks() -> dict[str, dict[str, bool]]:
    """Every check of the smoke suite by service: `{service: {check name: writes?}}`, read from
    the source, so the counts follow checks other engineers add."""
    import ast

    from smoke.checks import SERVICES

    found: dict[str, dict[str, bool]] = {}
    for path in sorted(SMOKE_DIR.glob("checks/*.py")):
        if path.stem not in SERVICES:
            continue
        checks = found.setdefault(path.stem, {})
        for node in ast.parse(path.read_text()).body:
            marks = [ast.unparse(d) for d in getattr(node, "decorator_list", [])]
            if isinstance(node, ast.FunctionDef) and any(m.startswith("check(") for m in marks):
                checks[node.name] = "check(writes=True)" in marks
    return found


@contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections (the kernel does) and never answers: a frozen
    server, for as long as the block runs."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield silent.getsockname()[1]
