"""The reference app on the real SDKs against the real servers, seen by smoke: a process-video
run Completed on the Inngest Dev Server (its rows written and cleaned) and a /api/test-sentry
event found in Bugsink by id. Servers come from the providers directly, on free ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from components.local import processes
from components.local.error_tracker import ErrorTrackerProvider
from components.local.inngest_server import InngestDevServerProvider
from components.local.postgres_server import PostgresProvider
from components.migrations import runner as migration_runner
from devtools.ports import free_port

ROOT = Path(__file__).resolve().parents[3]


def start_app(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "reference_app.main:app", "--host", "127.0.0.1",
           "--port", str(port)]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    processes.wait_until("app", lambda: processes.port_open(port), f"the app on {port}", 30)
    return proc


@pytest.fixture
def stack(state_dir: Path) -> Iterator[dict[str, Any]]:
    """Postgres (migrated), Bugsink, the Dev Server and the app; the outputs smoke reads."""
    made: list[tuple[Any, dict[str, Any]]] = []
    app: subprocess.Popen[bytes] | None = None
    try:
        pg_props = {"port": free_port(), "data_dir": str(state_dir / "pg"),
                    "database": "mentora", "app_user": "mentora_app"}  # fmt: skip
        pg = PostgresProvider().create(pg_props).outs
        made.append((PostgresProvider(), pg))
        migration_runner.apply(pg["admin_url"], ROOT / "supabase" / "migrations")
        tracker_props = {"port": free_port(), "data_dir": str(state_dir / "bugsink"),
                         "team": "mentora", "project": "mentora-app"}  # fmt: skip
        started = time.monotonic()
        tracker = ErrorTrackerProvider().create(tracker_props).outs
        print(f"bugsink cold create {time.monotonic() - started:.2f}s")
        made.append((ErrorTrackerProvider(), tracker))
        app_port = free_port()
        dev_props = {"port": free_port(), "data_dir": str(state_dir / "inngest"),
                     "app_url": f"http://127.0.0.1:{app_port}/api/inngest"}  # fmt: skip
        dev = InngestDevServerProvider().create(dev_props).outs
        made.append((InngestDevServerProvider(), dev))
        env = {
            "DATABASE_URL": pg["app_url"],
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "INNGEST_DEV": "1",
            "INNGEST_BASE_URL": dev["url"],
            "SENTRY_DSN": tracker["dsn"],
            "SENTRY_API_URL": tracker["url"],
            "SENTRY_AUTH_TOKEN": tracker["api_token"],
            "SENTRY_PROJECT": tracker["project_id"],
        }
        app = start_app(app_port, env, state_dir / "app.log")
        yield {
            "target": "local",
            "database_url": pg["app_url"],
            "redis_url": env["REDIS_URL"],
            "bucket_name": "mentora-videos",
            "storage_endpoint": f"http://127.0.0.1:{free_port()}",
            "storage_region": "us-east-1",
            "app_url": f"http://127.0.0.1:{app_port}",
            "env": env,
            "dev_data_dir": dev_props["data_dir"],
            "tracker_data_dir": tracker_props["data_dir"],
        }
    finally:
        if app is not None:
            app.terminate()
            app.wait(10)
        for provider, outs in reversed(made):
            provider.delete("x", outs)


def smoke(outputs: Path, *targets: str) -> tuple[subprocess.CompletedProcess[str], float]:
    command = [sys.executable, "-m", "pytest", *targets, "--outputs-file", str(outputs),
               "-p", "no:cacheprovider", "-rA", "--durations=0"]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=90)
    return proc, time.monotonic() - started


def test_smoke_sees_the_job_run_and_the_error_arrive(stack: dict[str, Any], tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(stack))
    targets = ("smoke/checks/jobs.py", "smoke/checks/errors.py", "smoke/checks/app.py::"
               "test_inngest_serves_the_guide_functions")  # fmt: skip
    proc, took = smoke(outputs, *targets)
    print(proc.stdout[-2500:])
    print(f"smoke jobs+errors wall {took:.2f}s")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "3 passed" in proc.stdout
    assert "process-video run" in proc.stdout and "Completed" in proc.stdout
    assert "arrived in Bugsink" in proc.stdout
    for secret in (stack["env"]["SENTRY_AUTH_TOKEN"], stack["env"]["SENTRY_DSN"]):
        assert secret not in proc.stdout + proc.stderr

    # The function cleaned its rows (smoke asserts it too); nothing with a smoke marker is left.
    import psycopg

    with psycopg.connect(stack["database_url"], connect_timeout=5) as conn:
        left = conn.execute(
            "select count(*) from public.video_chunks where content like 'smoke:%'"
        ).fetchone()
    assert left == (0,)

    # Runs API shape of the Dev Server v1.0.0 (documented in docs/app-contract.md).
    base = stack["env"]["INNGEST_BASE_URL"]
    functions = httpx.get(f"{base}/dev", timeout=5).json()["functions"]
    assert sorted(f["slug"] for f in functions) == sorted(
        f"mentora-{f}"
        for f in (
            "process-video",
            "generate-quiz",
            "aggregate-daily-analytics",
            "check-content-health",
            "send-email",
        )  # fmt: skip
    )

    # Faults: the Dev Server hung, then dead -> jobs fails naming it within one timeout (3 s);
    # the tracker dead -> errors.
    pid = processes.read_pid(Path(stack["dev_data_dir"]) / "inngest.pid")
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        proc, took = smoke(outputs, "smoke/checks/jobs.py")
    finally:
        os.kill(pid, signal.SIGCONT)
    print(f"jobs with the Dev Server hung: {took:.2f}s")
    assert proc.returncode == 1 and "jobs: the Dev Server at" in proc.stdout, proc.stdout[-1500:]
    os.kill(pid, signal.SIGKILL)  # dead, as a crash leaves it
    proc, took = smoke(outputs, "smoke/checks/jobs.py")
    print(f"jobs with the Dev Server dead: {took:.2f}s")
    assert proc.returncode == 1 and "jobs: the Dev Server at" in proc.stdout, proc.stdout[-1500:]
    tracker_pid = processes.read_pid(Path(stack["tracker_data_dir"]) / "gunicorn.pid")
    os.killpg(tracker_pid or 0, signal.SIGKILL)
    proc, took = smoke(outputs, "smoke/checks/errors.py")
    print(f"errors with the tracker dead: {took:.2f}s")
    assert proc.returncode == 1 and "errors: Bugsink's API at" in proc.stdout, proc.stdout[-1500:]
