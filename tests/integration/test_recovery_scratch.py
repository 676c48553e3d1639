"""A real scratch Postgres 18 + pgvector (recovery/scratch.py) and the drill proofs on it: the
proofs pass on a faithful copy and name what differs on a damaged one; the scratch server and its
folder are gone after a normal end, an exception and SIGINT. About 10 s in all (three servers)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from components.migrations import runner
from recovery import cloud_drill, facts, proofs
from recovery.report import render
from recovery.scratch import Scratch, ScratchError, scratch_postgres

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "components" / "local" / "sql" / "supabase_shim.sql"
MIGRATIONS = ROOT / "supabase" / "migrations"
MARKERS = proofs.Markers(table="drill.markers", column="label", before="before-T", after="after-T")
VECTOR = "[" + ",".join("0.5" for _ in range(1536)) + "]"


def seed(pg: Scratch) -> None:
    """The schema as the stack has it (shim + every migration), a little data and a marker."""
    pg.create_database("mentora")
    with pg.connect("mentora") as conn:
        conn.execute(SHIM.read_text())
    runner.apply(pg.url("mentora"), MIGRATIONS)
    user = str(uuid.uuid4())
    with pg.connect("mentora") as conn:
        conn.execute("insert into auth.users (id, email) values (%s, 'c@t.io')", (user,))
        creator = conn.execute(
            "insert into creators (user_id, display_name) values (%s, 'C') returning id", (user,)
        ).fetchone()[0]
        video = conn.execute(
            "insert into videos (creator_id, title, storage_key) values (%s, 'V', 'k') "
            "returning id",
            (creator,),
        ).fetchone()[0]
        conn.execute(
            "insert into video_chunks (video_id, chunk_index, content, start_seconds, "
            "end_seconds, embedding) values (%s, 0, 'hello', 0, 1, %s::extensions.vector)",
            (video, VECTOR),
        )
        conn.execute("create schema drill; create table drill.markers (label text primary key)")
        conn.execute("insert into drill.markers values (%s)", (MARKERS.before,))


def proofs_of(pg: Scratch, expected: proofs.Expected) -> dict[str, proofs.Proof]:
    with pg.connect("mentora") as conn:
        found = proofs.run_all(
            conn, expected, pg_bin=pg.bin("pg_amcheck").parent, env=pg.libpq_env("mentora")
        )
    return {p.name: p for p in found}


@pytest.fixture(scope="module")
def source() -> Iterator[tuple[Scratch, proofs.Expected]]:
    with scratch_postgres() as pg:
        seed(pg)
        with pg.connect("mentora") as conn:
            expected = facts.read_expected(conn, markers=MARKERS)
        yield pg, expected


@pytest.fixture(scope="module")
def backup(source: tuple[Scratch, proofs.Expected]) -> Iterator[Path]:
    """One base backup of the source (pg_basebackup), shared: each test restores a copy."""
    folder = Path(tempfile.mkdtemp(prefix="mentora-drilltest-"))
    try:
        basebackup_into(source[0], folder / "pgdata")
        yield folder / "pgdata"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def restore_copy(backup: Path, pgdata: Path) -> None:
    shutil.copytree(backup, pgdata, symlinks=True, dirs_exist_ok=True)


def test_every_proof_passes_on_the_source_itself(source: tuple[Scratch, proofs.Expected]) -> None:
    pg, expected = source
    found = proofs_of(pg, expected)
    assert {n: p.ok for n, p in found.items()} == dict.fromkeys(found, True), found
    assert expected.row_counts["video_chunks"] == 1 and len(expected.ledger) == 6
    assert "returned 1 rows" in found["pgvector"].detail


def test_a_base_backup_restored_into_a_scratch_passes_the_same_proofs(
    source: tuple[Scratch, proofs.Expected], backup: Path
) -> None:
    pg, expected = source
    # What a local drill does with its base backup: a copy of it becomes the scratch's data.
    with scratch_postgres(source_data_dir=backup, superuser=pg.superuser) as copy:
        found = proofs_of(copy, expected)
        assert copy.port != pg.port and copy.base != pg.base
    assert all(p.ok for p in found.values()), found
    assert (backup / "backup_label").is_file()  # the backup itself is untouched


def basebackup_into(pg: Scratch, pgdata: Path) -> None:
    command = [str(pg.bin("pg_basebackup")), "-D", str(pgdata), "-X", "stream", "-c", "fast"]
    subprocess.run(command, env={**os.environ, **pg.libpq_env()}, check=True, timeout=60)


def test_a_recovering_copy_is_ready_only_once_promoted(
    source: tuple[Scratch, proofs.Expected], backup: Path
) -> None:
    # What a PITR drill starts: recovery.signal and a target; `until_recovered` waits for the
    # end of recovery (recovery_target_action=promote), not for the first connection.
    pg, expected = source

    def restore(pgdata: Path) -> None:
        restore_copy(backup, pgdata)
        (pgdata / "recovery.signal").touch()

    settings = {
        "restore_command": "false",  # no archive: recover what the backup itself holds
        "recovery_target": "immediate",
        "recovery_target_action": "promote",
    }
    with scratch_postgres(
        populate=restore, superuser=pg.superuser, settings=settings, until_recovered=True
    ) as copy:
        with copy.connect() as conn:
            assert conn.execute("select pg_is_in_recovery()").fetchone() == (False,)
        assert all(p.ok for p in proofs_of(copy, expected).values())


def test_a_recovery_that_cannot_reach_its_target_fails_at_once_with_the_log(
    source: tuple[Scratch, proofs.Expected], backup: Path
) -> None:
    # facts.md: a target past the last archived WAL ends recovery with a FATAL; the start must
    # report it (the server exited), not wait for its deadline.
    pg, _ = source

    def restore(pgdata: Path) -> None:
        restore_copy(backup, pgdata)
        (pgdata / "recovery.signal").touch()

    settings = {
        "restore_command": "false",
        "recovery_target_time": "2999-01-01 00:00:00+00",
        "recovery_target_action": "promote",
    }
    started = time.monotonic()
    with (
        pytest.raises(ScratchError, match="exited") as caught,
        scratch_postgres(
            populate=restore, superuser=pg.superuser, settings=settings, until_recovered=True
        ),
    ):
        pass
    assert time.monotonic() - started < 30
    assert "recovery ended before configured recovery target was reached" in str(caught.value)


def test_a_damaged_data_file_fails_the_proofs_naming_the_file(
    source: tuple[Scratch, proofs.Expected], backup: Path
) -> None:
    # A restored copy whose video_chunks heap page was overwritten (a bad disk, a torn copy):
    # data checksums (on by default since PostgreSQL 18) catch it on the first read.
    pg, expected = source
    with pg.connect("mentora") as conn:
        (relpath,) = conn.execute("select pg_relation_filepath('public.video_chunks')").fetchone()

    def restore_then_damage(pgdata: Path) -> None:
        restore_copy(backup, pgdata)
        with (pgdata / relpath).open("r+b") as heap:
            heap.seek(4096)
            heap.write(b"\xff" * 512)

    with scratch_postgres(populate=restore_then_damage, superuser=pg.superuser) as copy:
        with copy.connect() as conn:
            assert conn.execute("show data_checksums").fetchone() == ("on",)
        found = proofs_of(copy, expected)
    assert found["row_counts"].failed and relpath in found["row_counts"].detail
    assert found["integrity"].failed and relpath in found["integrity"].detail
    assert found["ledger"].ok and found["rls"].ok


APP_PASSWORD = "s3cr/et pw"


def app_url(pg: Scratch) -> str:
    """The source as the stack's `database_url` reaches it: the app role, over TCP, a password
    (made here like the local stack's provisioning makes it)."""
    from psycopg import sql

    from components.local.postgres_role import APP_ROLE_CREATE_SQL, APP_ROLE_SQL

    with pg.connect("mentora") as conn:
        if not conn.execute("select 1 from pg_roles where rolname = 'mentora_app'").fetchall():
            app = sql.Identifier("mentora_app")
            conn.execute(
                sql.SQL(APP_ROLE_CREATE_SQL).format(app=app, password=sql.Literal(APP_PASSWORD))
            )
            names = {"db": sql.Identifier("mentora"), "admin": sql.Identifier(pg.superuser)}
            conn.execute(sql.SQL(APP_ROLE_SQL).format(app=app, **names))
            conn.execute("grant select on all tables in schema supabase_migrations to mentora_app")
    return f"postgresql://mentora_app:s3cr%2Fet%20pw@127.0.0.1:{pg.port}/mentora"


def test_the_cloud_drill_copies_the_source_read_only_and_proves_the_copy(
    source: tuple[Scratch, proofs.Expected], tmp_path: Path
) -> None:
    # Through the CLI, as the nightly workflow runs it, with the source URL in a variable.
    from typer.testing import CliRunner

    from gate.cli import app

    pg, expected = source
    report, summary = tmp_path / "drill.json", tmp_path / "summary.md"
    args = ["cloud", "drill", "local", "--source-url-env", "SOURCE_URL"]
    result = CliRunner().invoke(
        app,
        [*args, "--json", str(report), "--summary", str(summary)],
        env={"SOURCE_URL": app_url(pg)},
    )
    assert result.exit_code == 0, result.output
    document = json.loads(report.read_text())
    assert document["passed"] and document["ended"] == "finished"
    assert {p["name"]: p["ok"] or p["skipped"] for p in document["proofs"]} == {
        "integrity": True,
        "ledger": True,
        "rls": True,
        "pgvector": True,
        "row_counts": True,
        "markers": True,
    }
    assert document["restore_s"] > 0 and document["recovery_point"]
    assert "DRILL: all 5 proofs passed (1 skipped)" in summary.read_text()
    for text in (result.output, report.read_text(), summary.read_text()):
        assert "s3cr" not in text
    with pg.connect("mentora") as conn:  # the source is as it was
        assert facts.read_expected(conn, markers=MARKERS) == expected


def test_a_cloud_drill_that_cannot_reach_its_source_fails_without_the_password(
    source: tuple[Scratch, proofs.Expected],
) -> None:
    pg, _ = source
    report = cloud_drill.run("local", app_url(pg).replace("s3cr%2Fet%20pw", "wrong%20pw"))
    assert report.exit_code() == 1 and report.proofs == []
    assert report.ended.startswith("failed: connect to the source:"), report.ended
    assert "wrong pw" not in render(report) and "wrong%20pw" not in render(report)


# Damages the module's source for good (its rows): keep it the last test that uses `source`.
def test_a_damaged_copy_fails_the_proofs_naming_what_differs(
    source: tuple[Scratch, proofs.Expected],
) -> None:
    pg, expected = source
    with pg.connect("mentora") as conn:
        conn.execute("alter table public.quizzes disable row level security")
        conn.execute("insert into drill.markers values (%s)", (MARKERS.after,))
        conn.execute("delete from public.video_chunks")
        try:
            found = proofs_of(pg, expected)
        finally:
            conn.execute("alter table public.quizzes enable row level security")
            conn.execute("delete from drill.markers where label = %s", (MARKERS.after,))
    assert found["rls"].failed and "RLS off on: ['quizzes']" in found["rls"].detail
    assert found["markers"].failed and "'after-T': PRESENT" in found["markers"].detail
    assert found["row_counts"].failed
    assert "video_chunks 0 (expected 1)" in found["row_counts"].detail
    assert found["ledger"].ok and found["pgvector"].ok


def server_of(base: Path) -> list[psutil.Process]:
    """Processes that work in `base` (the scratch's postmaster and backends)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.cwd().startswith(str(base)):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def test_the_server_and_its_folder_are_gone_after_an_exception() -> None:
    seen: list[Path] = []
    with pytest.raises(RuntimeError, match="drill failed"), scratch_postgres() as pg:
        seen.append(pg.base)
        assert server_of(pg.base)
        raise RuntimeError("drill failed")
    assert not seen[0].exists() and server_of(seen[0]) == []


CHILD = """
import sys, time
from recovery.scratch import scratch_postgres
with scratch_postgres() as pg:
    print(pg.base, flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_server_and_removes_its_folder(sig: signal.Signals) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    base = Path(child.stdout.readline().strip())
    try:
        assert base.is_dir() and server_of(base)
        child.send_signal(sig)  # Ctrl-C, or a service manager's stop
        child.wait(timeout=30)
        assert child.returncode != 0
        assert not base.exists() and server_of(base) == []
    finally:  # what a failing run left: the child's own server (it works in `base`), killed
        if child.poll() is None:
            child.kill()
        for proc in server_of(base):
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)


def test_a_scratch_left_by_a_killed_drill_is_removed_by_the_next_sweep() -> None:
    from recovery import scratch_orphans

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    base = Path(child.stdout.readline().strip())
    try:
        assert server_of(base)
        child.kill()  # SIGKILL: no cleanup can run in the drill itself
        child.wait(timeout=10)
        assert base.is_dir() and server_of(base)  # left running
        assert str(base) in scratch_orphans.sweep(base.parent)  # what the next start runs
        assert not base.exists() and server_of(base) == []
    finally:
        for proc in server_of(base):
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)


def test_an_empty_scratch_copied_from_the_template_gets_its_own_password(
    source: tuple[Scratch, proofs.Expected],
) -> None:
    import psycopg

    from recovery import scratch_template
    from recovery.scratch import pg_bin_dir, scram_url

    pg, _ = source  # an empty scratch was made: the template exists from now on
    assert scratch_template.find(pg_bin_dir(), pg.superuser) is not None
    with scratch_postgres() as copy:
        assert copy.password != pg.password
        with psycopg.connect(scram_url(copy), connect_timeout=5) as conn:  # TCP, scram-sha-256
            assert conn.execute("select current_user").fetchone() == (copy.superuser,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(scram_url(pg).replace(str(pg.port), str(copy.port)), connect_timeout=5)
