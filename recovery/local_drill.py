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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.local.unix_user import remove_service_user, run_as
from recovery import archive_layout as layout
from recovery import local_proofs, manifest
from recovery.archive_reader import Archive, Feeder
from recovery.errors import DrillFailed
from recovery.local_proofs import Proof
from recovery.recovering_server import RecoveringServer
from recovery.report import DrillReport

MARKERS_SQL = """
create schema if not exists mentora_backup;
create table if not exists mentora_backup.drill_markers (
  id bigserial primary key, label text not null, at timestamptz not null default clock_timestamp()
);
"""
RECOVERY_DEADLINE_S = 300.0
SWITCH_DEADLINE_S = 60.0


def admin(url: str, **kwargs: Any) -> Any:
    import psycopg

    return psycopg.connect(url, connect_timeout=5, **kwargs)


def write_markers(live_url: str) -> tuple[int, int, datetime, dict[str, int]]:
    """The before marker (with row counts in its snapshot), TIME, the after marker."""
    import psycopg

    with admin(live_url, autocommit=True) as conn:
        conn.execute(MARKERS_SQL)
    with admin(live_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            before = conn.execute(
                "insert into mentora_backup.drill_markers (label) values ('before') returning id"
            ).fetchone()[0]
            counts = local_proofs.counts(conn)
        target = conn.execute("select clock_timestamp()").fetchone()[0]
        conn.commit()
    time.sleep(0.01)
    with admin(live_url, autocommit=True) as conn:
        after = conn.execute(
            "insert into mentora_backup.drill_markers (label) values ('after') returning id"
        ).fetchone()[0]
    return before, after, target.astimezone(UTC), counts


def markers_around(live_url: str, target: datetime) -> tuple[int | None, int | None]:
    """Markers of earlier drills: the newest written a second before TIME, the first after."""
    with admin(live_url, autocommit=True) as conn:
        conn.execute(MARKERS_SQL)
        before = conn.execute(
            "select max(id) from mentora_backup.drill_markers where at < %s - interval '1 s'",
            (target,),
        ).fetchone()[0]
        after = conn.execute(
            "select min(id) from mentora_backup.drill_markers where at > %s", (target,)
        ).fetchone()[0]
    return before, after


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


def marker_proofs(conn: Any, before: int | None, after: int | None) -> list[Proof]:
    found = {r[0] for r in conn.execute("select id from mentora_backup.drill_markers")}
    proofs = []
    if before is not None:
        proofs.append(Proof("marker written before TIME present", before in found, f"id {before}"))
    if after is not None:
        proofs.append(Proof("marker written after TIME absent", after not in found, f"id {after}"))
    if before is None and after is None:
        proofs.append(Proof("markers around TIME", True, "none written near TIME: skipped"))
    return proofs


def drill(
    stack: str,
    backup: dict[str, Any],
    at: datetime | None,
    on_step: Callable[[str], None] = lambda _step: None,
) -> DrillReport:
    """One drill of a local stack's backups (`backup`: the stack's `backup` output)."""
    from psycopg.conninfo import conninfo_to_dict

    started = time.monotonic()
    live_url = str(backup["admin_url"])
    info = {k: str(v) for k, v in conninfo_to_dict(live_url).items() if v is not None}
    archive = Archive(backup)
    report = DrillReport(stack=stack, target=(at or datetime.now(UTC)).isoformat())
    wal = [i for i in archive.listed(layout.WAL_PREFIX) if layout.segment_of(i["Key"])]
    if wal:
        newest = max(i["LastModified"] for i in wal)
        report.recovery_point_s = round((datetime.now(UTC) - newest).total_seconds(), 2)
    with admin(live_url, autocommit=True) as conn:
        live = local_proofs.facts(conn)
    before: int | None
    after: int | None
    if at is None:
        on_step("writing the marker rows around TIME")
        before, after, target, at_time = write_markers(live_url)
        switch_and_wait(live_url, archive)
    else:
        target, at_time = at, None
        before, after = markers_around(live_url, target)
    report.target = target.isoformat()
    scratch = Path(tempfile.mkdtemp(prefix="mentora-drill-"))
    scratch.chmod(0o711)  # the scratch server's OS user passes through to its own folder
    server = RecoveringServer(scratch / "server", _free_port())
    feeder: Feeder | None = None
    try:
        t0 = time.monotonic()
        chosen = archive.base_backup_before(target)
        report.backup = chosen.id
        on_step(f"downloading and verifying base backup {chosen.id}")
        (scratch / "backup").mkdir()
        archive.download_base(chosen, scratch / "backup")
        files = manifest.verify(scratch / "backup", archive.where(f"base/{chosen.id}/"))
        plan = archive.wal_plan(chosen, target)
        report.wal_segments = len(plan.segments)
        server.root.mkdir(mode=0o700)
        owner = server.prepare(scratch / "backup" / "base.tar.gz")
        shutil.rmtree(scratch / "backup")
        on_step(f"replaying {len(plan.segments)} WAL segment(s) to {target.isoformat()}")
        feeder = Feeder(archive, plan, server.wal_in, owner)
        feeder.start()
        server.start(target)
        try:
            server.wait_promoted(info["user"], info["password"], RECOVERY_DEADLINE_S)
        except DrillFailed:
            if feeder.error is not None:
                raise DrillFailed(str(feeder.error)) from None
            raise
        report.restore_s = round(time.monotonic() - t0, 2)
        t1 = time.monotonic()
        report.proofs.append(Proof("base backup matches its manifest", True, f"{files} files"))
        with admin(server.url(info["user"], info["password"], info["dbname"])) as conn:
            report.proofs += local_proofs.prove(conn, live, at_time)
            report.proofs += marker_proofs(conn, before, after)
        server.stop()
        report.proofs.append(local_proofs.checksums(server.pgdata, run_as(server.root)))
        report.verify_s = round(time.monotonic() - t1, 2)
    except DrillFailed as exc:
        report.error = str(exc)
    finally:
        if feeder is not None:
            feeder.stop.set()
        server.stop(grace_s=5)
        shutil.rmtree(scratch, ignore_errors=True)
        remove_service_user(server.root)
        report.total_s = round(time.monotonic() - started, 2)
    return report


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
