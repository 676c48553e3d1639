"""The floor: the stack's servers started and its SQL applied by the providers' own steps, timed.

The five independent chains run concurrently, as the Pulumi engine runs the stack's
resources (Postgres -> SQL, Redis, S3 store -> provisioning, Inngest Dev Server, Bugsink conf ->
one-time setup -> gunicorn -> team/project); the env file and the app follow, as they depend on
all of them (the DSN, the Dev Server's URL). The floor is the wall time of the whole thing:
the servers' own work with nothing around it (bench/floor_servers.py), so cold `up` is
reported as a ratio to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bench import model
from bench.floor_servers import FloorServers
from bench.model import Report

Step = tuple[str, Callable[[], None]]


def _chains(servers: FloorServers) -> list[list[Step]]:
    pg, redis, s3 = servers.make("postgres"), servers.make("redis"), servers.make("storage")
    jobs, errors = servers.make("jobs"), servers.make("errors")
    return [
        [
            ("postgres: initdb (set_up)", pg.set_up),
            ("postgres: pg_ctl start -w, until select 1 (start)", pg.start),
            ("postgres: database, app role, shim, grants (provision)", pg.provision),
            ("postgres: migrations (runner)", servers.migrate),
        ],
        [("redis: redis-server, until PING answers (start)", redis.start)],
        [
            ("S3: a new store's empty journal (set_up)", s3.set_up),
            ("S3: store, until it listens; IAM user/key/policy + bucket (start)", s3.start),
        ],
        [("jobs: Inngest Dev Server, until GET /dev answers (start)", jobs.start)],
        [
            ("errors: conf + one-time setup: migrate, superuser, token (set_up)", errors.set_up),
            ("errors: gunicorn, until the API answers (start)", errors.start),
            ("errors: team + project (provision)", errors.provision),
        ],
    ]


def _run_chain(chain: list[Step], steps: dict[str, float]) -> None:
    for label, action in chain:
        start = time.monotonic()
        action()
        steps[label] = time.monotonic() - start


def floor(report: Report, servers: FloorServers) -> None:
    """One round: start every floor server (left running: the caller stops them), timing the
    whole and each step (each round adds a sample)."""
    steps: dict[str, float] = {}
    start = time.monotonic()
    chains = _chains(servers)
    with ThreadPoolExecutor(max_workers=len(chains), thread_name_prefix="floor") as pool:
        futures = [pool.submit(_run_chain, chain, steps) for chain in chains]
        for future in futures:
            future.result()
    _run_chain(
        [
            ("env file (0600)", servers.env_file),
            ("app: uvicorn, until /api/health answers", servers.app_start),
        ],
        steps,
    )
    total = time.monotonic() - start
    row = report.row(model.FLOOR)
    row.samples.append(total)
    row.note = f"last round one step after another: {sum(steps.values()):.2f} s"
    for label, seconds in steps.items():
        report.row(f"floor:{label}", label, group="floor step").samples.append(seconds)
    bugsink_migrations(report, servers.servers["errors"].keys["setup_seconds"])


def bugsink_migrations(report: Report, setup_seconds: str) -> None:
    """Bugsink's migrations as their own row: `migrate` + `migrate snappea`, as its one-time
    setup timed them inside its process (Django's start not included); `setup_seconds` is the
    provider's "migrate X s, snappea Y s"."""
    migrate, snappea = (float(part.split()[1].rstrip("s")) for part in setup_seconds.split(", "))
    row = report.row(model.BUGSINK_MIGRATE)
    row.samples.append(migrate + snappea)
    row.note = f"last round: migrate {migrate:.2f} s + snappea {snappea:.2f} s; once per stack"
