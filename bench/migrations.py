"""Migrations through `components.migrations.runner`, on fresh databases of the floor's
Postgres (the provider's own server): apply from zero, then re-run with nothing
pending. The shim (Supabase roles and schemas) is applied first and not timed: on the stack the
server's create applies it, not the migrations resource.
"""

from __future__ import annotations

import time

from bench import model
from bench.floor_servers import MIGRATIONS
from bench.model import Measurement, Report
from bench.proc import BenchError
from components.local.postgres_server import SHIM_SQL


def migrations(report: Report, admin_url: str, samples: int) -> None:
    """`samples` fresh databases of the server at `admin_url` (its superuser): time `apply`
    from zero and its re-run on each."""
    import psycopg
    from psycopg import sql

    from components.migrations import runner

    versions = [m.version for m in runner.discover(MIGRATIONS)]
    first = report.add(Measurement(model.MIGRATE, model.REQUIRED[model.MIGRATE]))
    again = report.add(Measurement(model.MIGRATE_RERUN, model.REQUIRED[model.MIGRATE_RERUN]))
    first.note = f"{len(versions)} files; sample 1 includes importing sqlparse"
    for n in range(samples):
        name = sql.Identifier(f"bench_migrations_{n}")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(name))
            conn.execute(sql.SQL("create database {}").format(name))
        url = admin_url.rsplit("/", 1)[0] + f"/bench_migrations_{n}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SHIM_SQL.read_text())
        start = time.monotonic()
        result = runner.apply(url, MIGRATIONS)
        first.samples.append(time.monotonic() - start)
        if list(result.applied) != versions:
            raise BenchError(f"migrations from zero applied {result.applied}, expected {versions}")
        start = time.monotonic()
        result = runner.apply(url, MIGRATIONS)
        again.samples.append(time.monotonic() - start)
        if result.applied or result.skipped != len(versions):
            raise BenchError(f"migrations re-run applied {result.applied}: expected nothing")
    split = report.add(
        Measurement("migrations_split", "of which: sqlparse splitting", group="migration part")
    )
    for _ in range(samples):
        start = time.monotonic()
        for migration in runner.discover(MIGRATIONS):
            runner.split_statements(migration.sql)
        split.samples.append(time.monotonic() - start)
