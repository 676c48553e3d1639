"""The raw floor: the stack's servers started and its SQL applied by plain scripts, timed.

The five independent chains run concurrently, as the Pulumi engine runs the stack's
resources (Postgres -> SQL, Redis, S3 store -> provisioning, Inngest Dev Server, Bugsink conf ->
one-time setup -> gunicorn -> team/project); the env file and the app follow, as they depend on
all of them (the DSN, the Dev Server's URL). The floor is the wall time of the whole thing: the
least a tool doing the same work can take on this machine, so cold `up` is reported as a ratio
to it.
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
    pg = servers.pg
    return [
        [
            ("postgres: initdb", pg.initdb),
            ("postgres: pg_ctl start -w", pg.start),
            ("postgres: database + app role (psql)", pg.roles),
            ("postgres: shim, grants, migrations (psql)", pg.schema),
        ],
        [("redis: redis-server, until it listens", servers.redis_start)],
        [
            ("S3: moto server, until it listens", servers.s3_start),
            ("S3: IAM user/key/policy + bucket (boto3)", servers.s3_provision),
        ],
        [("jobs: Inngest Dev Server, until GET /dev answers", servers.jobs_start)],
        [
            ("errors: bugsink-create-conf", servers.errors_conf),
            ("errors: one-time setup (migrate, superuser, token)", servers.errors_setup),
            ("errors: gunicorn, until the API answers", servers.errors_start),
            ("errors: team + project (API)", servers.errors_project),
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
    bugsink_migrations(report, servers.bugsink)


def bugsink_migrations(report: Report, setup: dict[str, str]) -> None:
    """Bugsink's migrations as their own row: `migrate` + `migrate snappea`, as its one-time
    setup timed them inside its process (Django's start not included)."""
    migrate, snappea = float(setup["migrate_s"]), float(setup["snappea_s"])
    row = report.row(model.BUGSINK_MIGRATE)
    row.samples.append(migrate + snappea)
    row.note = f"last round: migrate {migrate:.2f} s + snappea {snappea:.2f} s; once per stack"
