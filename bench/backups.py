"""`python -m bench.backups`: issue 21's numbers, on a throwaway local stack and two throwaway
Postgres servers of the product's own provider.

- drill: `mentora-infra drill local` of the seeded database (migrations + seed), right after a
  fresh base backup, end to end (wall time of the CLI) and as its report splits it;
- recovery point: a row written, then the time until the WAL segment holding it is in the
  backup bucket (the most a loss at that moment loses), for `--archive-timeout` seconds;
- write latency with archiving on and off: `pgbench` (from the wheel) on two servers started by
  `PostgresProvider` with `archive_timeout` set and 0, same settings otherwise, interleaved.

Prints one line per row (JSON with `--json`); cleanup (the stack destroyed, servers stopped,
folders removed) always runs.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.proc import until
from components.local.backup_daemon import pg_bin
from components.local.postgres_server import ADMIN_USER, PostgresProvider, PostgresSettings
from components.local.unix_user import remove_service_user
from devtools.project import REPO, LocalProject, free_port


def fresh_base_backup(status: str, deadline_s: float) -> None:
    """Ask the stack's archiver for a base backup now; wait until it is in the bucket."""
    import httpx

    before = httpx.get(status).json().get("last_base_backup")
    httpx.post(status.replace("/status", "/base-backup"))
    until(
        "a new base backup",
        lambda: httpx.get(status).json().get("last_base_backup") != before,
        deadline_s,
    )


def drill(project: LocalProject, base: Path) -> dict[str, Any]:
    """One `mentora-infra drill local`: its wall time and its report's split."""
    report_path = base / "drill.json"
    t0 = time.monotonic()
    result = project.gate("drill", "local", "--json", str(report_path), timeout=1800)
    wall = time.monotonic() - t0
    report = json.loads(report_path.read_text())
    if result.returncode != 0:
        raise RuntimeError(f"the drill failed: {report.get('error') or result.output[-500:]}")
    keys = ("restore_s", "replay_s", "verify_s", "recovery_time_s", "recovery_point_age_s")
    return {"wall_s": round(wall, 2), **{k: report[k] for k in keys}}


def big_table_rows(
    project: LocalProject, backup: dict[str, Any], base: Path, mb: int
) -> dict[str, Any]:
    """A table of `mb` MB (1 KB rows) written, a base backup of it taken, then one drill: its
    time and MB/s (table size over restore, over restore + replay + verify)."""
    import psycopg

    rows = mb * 1024 * 1024 // 1100  # ~1 KB of text plus the row's own overhead
    with psycopg.connect(backup["admin_url"], autocommit=True) as conn:
        conn.execute("create table public.bench_big (id bigint primary key, body text)")
        for start in range(0, rows, 100_000):
            conn.execute(
                "insert into public.bench_big select g, repeat(md5(g::text), 32) "
                "from generate_series(%s::bigint, %s::bigint) g",
                (start + 1, min(start + 100_000, rows)),
            )
        found = conn.execute("select pg_total_relation_size('public.bench_big')").fetchone()
        assert found is not None
        size_mb = found[0] / 1024 / 1024
    t0 = time.monotonic()
    fresh_base_backup(backup["status_url"], 1800)
    backup_s = time.monotonic() - t0
    one = drill(project, base)
    return {
        "big_table_mb": round(size_mb, 1),
        "big_base_backup_s": round(backup_s, 1),
        "big_drill": one,
        "big_restore_mb_s": round(size_mb / one["restore_s"], 1),
        "big_recovery_mb_s": round(size_mb / one["recovery_time_s"], 1),
    }


def stack_rows(
    base: Path, archive_timeout: int, samples: int, big_table_mb: int = 0
) -> dict[str, Any]:
    import boto3  # type: ignore[import-untyped]
    import httpx
    import psycopg

    base.mkdir()
    project = LocalProject.create(base)
    try:
        project.run("config", "set", "mentora:archiveTimeout", str(archive_timeout))
        t0 = time.monotonic()
        project.up()
        up_s = time.monotonic() - t0
        backup = json.loads(project.outputs(show_secrets=True).output)["backup"]
        s3 = boto3.client(
            "s3",
            endpoint_url=backup["endpoint"],
            region_name=backup["region"],
            aws_access_key_id=backup["access_key_id"],
            aws_secret_access_key=backup["secret_access_key"],
        )

        def archived(key: str) -> bool:
            return bool(s3.list_objects_v2(Bucket=backup["bucket"], Prefix=key).get("KeyCount"))

        status = backup["status_url"]
        until(
            "a first base backup",
            lambda: bool(httpx.get(status).json().get("last_base_backup")),
            120,
        )
        rpo = []
        with psycopg.connect(backup["admin_url"], autocommit=True) as conn:
            conn.execute("create table if not exists public.bench_rpo (at timestamptz)")
            for _ in range(samples):
                conn.execute("insert into public.bench_rpo values (now())")
                name = conn.execute("select pg_walfile_name(pg_current_wal_lsn())").fetchone()
                assert name is not None
                written = functools.partial(archived, f"wal/{name[0]}.gz")
                rpo.append(until("the write archived", written, 120))
        # A fresh base backup, then the drill: the seeded database and a few segments of WAL.
        fresh_base_backup(status, 120)
        drills = [drill(project, base) for _ in range(samples)]
        big = big_table_rows(project, backup, base, big_table_mb) if big_table_mb else {}
        return {
            **big,
            "cold_up_s": round(up_s, 1),
            "recovery_point_s": [round(r, 2) for r in rpo],
            "recovery_point_max_s": round(max(rpo), 2),
            "archive_timeout_s": archive_timeout,
            "drills": drills,
            "drill_wall_median_s": statistics.median(d["wall_s"] for d in drills),
        }
    finally:
        project.run("destroy", "--yes", "--skip-preview", check=False, timeout=600)


def up_rows(base: Path, main: Path) -> dict[str, Any]:
    """Cold `up` and no-op `up --refresh` of `main`'s program and of this branch's (with the
    archiver), one after the other on the same machine: what archiving adds to `make up`."""
    rows: dict[str, Any] = {}
    for name, source in (("main", main), ("backups", REPO)):
        (base / name).mkdir()
        project = LocalProject.create(base / name, source=source)
        try:
            t0 = time.monotonic()
            project.up()
            rows[f"cold_up_s_{name}"] = round(time.monotonic() - t0, 2)
            t0 = time.monotonic()
            project.up("--refresh")
            rows[f"noop_up_refresh_s_{name}"] = round(time.monotonic() - t0, 2)
        finally:
            project.run("destroy", "--yes", "--skip-preview", check=False, timeout=600)
    return rows


def pgbench_rows(base: Path, seconds: int, rounds: int) -> dict[str, Any]:
    """Average write latency (pgbench's TPC-B-like script) with archiving on and off."""
    provider = PostgresProvider()
    servers = {}
    try:
        for name, timeout in (("on", 60), ("off", 0)):
            settings = PostgresSettings(
                port=free_port(), data_dir=base / f"pg-{name}", archive_timeout=timeout
            )
            settings.data_dir.mkdir(mode=0o700)
            keys = provider.new_secrets(settings)
            provider.set_up(settings, keys)
            provider.start(settings, keys)
            provider.provision(settings, keys)
            servers[name] = (settings, keys)
        results: dict[str, list[float]] = {"on": [], "off": []}

        def bench(name: str, *args: str) -> str:
            settings, keys = servers[name]
            env = {**os.environ, "PGPASSWORD": keys["admin_password"]}
            command = [pg_bin("pgbench"), "-h", "127.0.0.1", "-p", str(settings.port)]
            command += ["-U", ADMIN_USER, *args, settings.database]
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"pgbench failed: {done.stderr[-500:]}")
            return done.stdout

        for name in servers:
            bench(name, "-i", "-s", "5", "-q")
        for _ in range(rounds):  # interleaved: both see the same background load
            for name in ("on", "off"):
                out = bench(name, "-c", "2", "-j", "2", "-T", str(seconds))
                found = re.search(r"latency average = ([\d.]+) ms", out)
                assert found, out
                results[name].append(float(found.group(1)))
        return {
            "latency_ms_on": results["on"],
            "latency_ms_off": results["off"],
            "latency_median_ms_on": statistics.median(results["on"]),
            "latency_median_ms_off": statistics.median(results["off"]),
        }
    finally:
        for settings, _keys in servers.values():
            provider.stop(settings)
            shutil.rmtree(settings.data_dir, ignore_errors=True)
            remove_service_user(settings.data_dir)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.backups")
    parser.add_argument("--archive-timeout", type=int, default=60)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--pgbench-seconds", type=int, default=15)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--main", type=Path, help="a checkout of main: also time its `up`")
    parser.add_argument(
        "--big-table-mb", type=int, default=0, help="also drill a table of this size (1024: 1 GB)"
    )
    parser.add_argument(
        "--only-stack", action="store_true", help="skip the up and pgbench rows (the drills only)"
    )
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="mentora-bench-backups-"))
    base.chmod(0o755)
    rows: dict[str, Any] = {}
    steps = [
        lambda: up_rows(base, args.main) if args.main and not args.only_stack else {},
        lambda: {} if args.only_stack else pgbench_rows(base, args.pgbench_seconds, args.samples),
        lambda: stack_rows(base / "drill", args.archive_timeout, args.samples, args.big_table_mb),
    ]
    try:
        for step in steps:
            found = step()
            for key, value in found.items():  # as soon as measured: a later failure keeps them
                print(f"{key:28} {value}", flush=True)
            rows.update(found)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
