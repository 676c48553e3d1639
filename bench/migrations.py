"""Migrations through `components.migrations.runner`, on fresh databases of the floor's
Postgres (same server settings as the stack's): apply from zero, then re-run with nothing
pending. The shim (Supabase roles and schemas) is applied first and not timed: on the stack the
server's create applies it, not the migrations resource.
"""

from __future__ import annotations

import time

from bench import model
from bench.floor_pg import MIGRATIONS, SHIM, FloorPostgres
from bench.model import Measurement, Report
from bench.proc import BenchError


def migrations(report: Report, pg: FloorPostgres, samples: int) -> None:
    """`samples` fresh databases: time `apply` from zero and its re-run on each."""
    import psycopg
    from psycopg import sql

    from components.migrations import runner

    versions = [m.version for m in runner.discover(MIGRATIONS)]
    first = report.add(Measurement(model.MIGRATE, model.REQUIRED[model.MIGRATE]))
    again = report.add(Measurement(model.MIGRATE_RERUN, model.REQUIRED[model.MIGRATE_RERUN]))
    first.note = f"{len(versions)} files; sample 1 includes importing sqlparse"
    for n in range(samples):
        name = sql.Identifier(f"bench_migrations_{n}")
        with psycopg.connect(pg.admin_url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(name))
            conn.execute(sql.SQL("create database {}").format(name))
        url = pg.admin_url(f"bench_migrations_{n}")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SHIM.read_text())
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
