"""`mentora-infra drill local [--at TIME]`: restore the newest base backup before TIME plus the
archived WAL into a scratch server and prove the data; the live server is never stopped,
reconfigured or read from disk.

Without `--at`, the drill sets TIME itself: it writes a marker row, reads every table's row count
in the same snapshot, takes TIME right after that commit, writes a second marker, then asks for a
WAL switch (`pg_switch_wal()`) and waits until the archiver uploaded that segment. The restored
database must then hold the first marker, not the second, and the same row counts. (The issue
asked "a minute ago" by default: the drill's own TIME makes every proof exact instead.) With
`--at` in the past, markers of earlier drills around TIME are used and row counts are skipped.
The markers live in `mentora_backup.drill_markers`, outside the app's schema and its ledger.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.local import backup_layout as layout
from components.local.backup_daemon import pg_bin
from components.local.unix_user import remove_service_user, run_as
from recovery import local_proofs, manifest, proofs
from recovery.archive_reader import Archive, Feeder
from recovery.errors import DrillFailed
from recovery.facts import read_expected, read_ledger
from recovery.proofs import Expected, Markers, Proof
from recovery.recovering_server import RecoveringServer, recover_to
from recovery.report import DrillReport

MARKERS_SQL = """
create schema if not exists mentora_backup;
create table if not exists mentora_backup.drill_markers (
  id bigserial primary key, label text not null, at timestamptz not null default clock_timestamp()
);
"""
MARKERS_TABLE = "mentora_backup.drill_markers"
METHOD = "local: base backup + archived WAL, recovered in a scratch server"
SWITCH_DEADLINE_S = 60.0


def admin(url: str, **kwargs: Any) -> Any:
    import psycopg

    return psycopg.connect(url, connect_timeout=5, **kwargs)


def write_markers(live_url: str) -> tuple[Expected, datetime]:
    """The before marker (the ledger and row counts read in its snapshot), TIME right after
    its commit, then the after marker."""
    import psycopg

    label = f"drill-{uuid.uuid4().hex[:12]}"
    markers = Markers(MARKERS_TABLE, "label", f"{label}-before", f"{label}-after")
    with admin(live_url, autocommit=True) as conn:
        conn.execute(MARKERS_SQL)
    with admin(live_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            conn.execute(f"insert into {MARKERS_TABLE} (label) values (%s)", (markers.before,))
            expected = read_expected(conn, markers=markers)
        row = conn.execute("select clock_timestamp()").fetchone()
        conn.commit()
    time.sleep(0.01)
    with admin(live_url, autocommit=True) as conn:
        conn.execute(f"insert into {MARKERS_TABLE} (label) values (%s)", (markers.after,))
    return expected, row[0].astimezone(UTC)


def expected_at(live_url: str, target: datetime) -> Expected:
    """For a past TIME: the live ledger, no row counts (not known at TIME), and the markers of
    earlier drills around TIME (the newest written a second before it, the first after it)."""
    with admin(live_url, autocommit=True) as conn:
        conn.execute(MARKERS_SQL)
        before = conn.execute(
            f"select label from {MARKERS_TABLE} where at < %s - interval '1 s' "
            "order by id desc limit 1",
            (target,),
        ).fetchone()
        after = conn.execute(
            f"select label from {MARKERS_TABLE} where at > %s order by id limit 1", (target,)
        ).fetchone()
        ledger = read_ledger(conn)
    markers = Markers(MARKERS_TABLE, "label", before[0], after[0]) if before and after else None
    return Expected(ledger=ledger, row_counts={}, markers=markers)


def switch_and_wait(live_url: str, archive: Archive) -> None:
    """Close the current WAL segment and wait until the archiver uploaded it."""
    with admin(live_url, autocommit=True) as conn:
        name = conn.execute("select pg_walfile_name(pg_switch_wal())").fetchone()[0]
    key = layout.wal_key(name)
    deadline = time.monotonic() + SWITCH_DEADLINE_S
    while not archive.listed(key):
        if time.monotonic() > deadline:
            raise DrillFailed(
                f"{archive.where(key)} was not uploaded within {SWITCH_DEADLINE_S:g} s after "
                "pg_switch_wal(); is the archiver running? `make up`"
            )
        time.sleep(0.2)


def drill(
    stack: str,
    backup: dict[str, Any],
    at: datetime | None,
    on_step: Callable[[str], None] = lambda _step: None,
) -> DrillReport:
    """One drill of a local stack's backups (`backup`: the stack's `backup` output). The report
    is true at every ending: `ended` says `failed: <why>` or `interrupted` (re-raised)."""
    from psycopg.conninfo import conninfo_to_dict

    live_url = str(backup["admin_url"])
    info = {k: str(v) for k, v in conninfo_to_dict(live_url).items() if v is not None}
    archive = Archive(backup)
    report = DrillReport(stack=stack, method=METHOD, source=archive.where(""))
    wal = [i for i in archive.listed(layout.WAL_PREFIX) if layout.segment_of(i["Key"])]
    if wal:
        newest = max(i["LastModified"] for i in wal)
        report.recovery_point_age_s = (datetime.now(UTC) - newest).total_seconds()
    if at is None:
        on_step("writing the marker rows around TIME")
        expected, target = write_markers(live_url)
        switch_and_wait(live_url, archive)
    else:
        target, expected = at, expected_at(live_url, at)
    report.recovery_point = target
    scratch = Path(tempfile.mkdtemp(prefix="mentora-drill-"))
    scratch.chmod(0o711)  # the scratch server's OS user passes through to its own folder
    report.notes.append(f"scratch {scratch} (removed)")
    on_step(f"scratch server in {scratch}")
    server = RecoveringServer(scratch / "server")
    feeder: Feeder | None = None
    try:
        t0 = time.monotonic()
        chosen = archive.base_backup_before(target)
        report.notes.append(f"base backup {chosen.id}")
        on_step(f"downloading and verifying base backup {chosen.id}")
        (scratch / "backup").mkdir()
        archive.download_base(chosen, scratch / "backup")
        files = manifest.verify(scratch / "backup", archive.where(f"base/{chosen.id}/"))
        plan = archive.wal_plan(chosen, target)
        server.root.mkdir(mode=0o700)
        owner = server.prepare(scratch / "backup" / "base.tar.gz")
        shutil.rmtree(scratch / "backup")
        report.restore_s = time.monotonic() - t0
        t1 = time.monotonic()
        on_step(f"replaying {len(plan.segments)} WAL segment(s) to {target.isoformat()}")
        report.notes.append(f"{len(plan.segments)} WAL segment(s) replayed")
        feeder = Feeder(archive, plan, server.wal_in, owner)
        recover_to(server, feeder, target, info["user"], info["password"])
        report.replay_s = time.monotonic() - t1
        t2 = time.monotonic()
        report.proofs.append(
            Proof("manifest", True, f"{files} files match backup_manifest (SHA-256)")
        )
        env = {
            "PGHOST": str(server.socket_dir),
            "PGPORT": str(server.port),
            "PGUSER": info["user"],
            "PGPASSWORD": info["password"],
            "PGDATABASE": info["dbname"],
        }
        url = server.url(info["user"], info["password"], info["dbname"])
        with admin(url, autocommit=True) as conn:
            found = proofs.run_all(conn, expected, pg_bin=Path(pg_bin("postgres")).parent, env=env)
        if at is not None:  # row counts at a past TIME were never read
            why = "not known for a past TIME (--at): the drill reads them only at its own TIME"
            found = [
                Proof(p.name, False, why, skipped=True) if p.name == "row_counts" else p
                for p in found
            ]
        report.proofs += found
        server.stop()
        report.proofs.append(local_proofs.checksums(server.pgdata, run_as(server.root)))
        report.verify_s = time.monotonic() - t2
    except DrillFailed as exc:
        report.ended = f"failed: {exc}"
    except KeyboardInterrupt:
        report.ended = "interrupted"
        raise
    finally:
        if feeder is not None:
            feeder.halt()
        server.stop(grace_s=5)
        shutil.rmtree(scratch, ignore_errors=True)
        remove_service_user(server.root)
    return report
