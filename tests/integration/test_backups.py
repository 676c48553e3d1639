"""Backups on one shared local stack (archive_timeout 5 s): archiving on after a plain `up`, an
archiver failure named by smoke with its fix and healed by `up`, a base backup killed midway
healed by `up`; the drill and restore (recovery/) against the same stack."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from components.local import backup_layout as layout
from devtools.project import LocalProject
from gate.exitcodes import Exit

ARCHIVE_TIMEOUT_S = 5


@pytest.fixture(scope="module")
def stack(local_project: LocalProject) -> LocalProject:
    local_project.run("config", "set", "mentora:archiveTimeout", str(ARCHIVE_TIMEOUT_S))
    local_project.up()
    return local_project


def backup_output(project: LocalProject) -> dict[str, Any]:
    return dict(json.loads(project.outputs(show_secrets=True).output)["backup"])


_STATUS_URLS: dict[str, str] = {}


def status(project: LocalProject) -> dict[str, Any]:
    """The archiver's status (its URL read once: `pulumi stack output` takes seconds)."""
    if str(project.root) not in _STATUS_URLS:
        _STATUS_URLS[str(project.root)] = backup_output(project)["status_url"]
    return dict(httpx.get(_STATUS_URLS[str(project.root)], timeout=5).json())


def wait_for(what: str, ready: Callable[[], bool], deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while not ready():
        assert time.monotonic() < deadline, f"{what} did not happen within {deadline_s} s"
        time.sleep(0.2)


def s3(backup: dict[str, Any]) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        "s3",
        endpoint_url=backup["endpoint"],
        region_name=backup["region"],
        aws_access_key_id=backup["access_key_id"],
        aws_secret_access_key=backup["secret_access_key"],
    )


def complete_backups(project: LocalProject, backup: dict[str, Any] | None = None) -> list[str]:
    backup = backup or backup_output(project)
    listed = s3(backup).list_objects_v2(Bucket=backup["bucket"], Prefix=layout.BASE_PREFIX)
    return sorted(
        item["Key"].split("/")[1]
        for item in listed.get("Contents", [])
        if item["Key"].endswith(layout.INFO)
    )


def test_a_plain_up_archives_and_smoke_checks_freshness(stack: LocalProject) -> None:
    backup = backup_output(stack)
    wait_for("a base backup", lambda: bool(complete_backups(stack, backup)))
    wait_for("a WAL segment uploaded", lambda: bool(status(stack).get("last_wal")))
    result = stack.smoke("-k", "backups")
    assert result.returncode == 0, result.output[-3000:]
    assert "backups         4      0       0" in result.output, result.output[-2000:]


def test_an_archiver_failure_is_named_by_smoke_and_healed_by_up(stack: LocalProject) -> None:
    stack.kill_server("s3")  # the backup bucket is unreachable
    wait_for("the archiver to report the store down", lambda: "wal" in status(stack)["errors"])
    failed = stack.smoke("-k", "backups")
    assert failed.returncode == 1, failed.output[-3000:]
    assert "backups: wal: uploading wal/" in failed.output, failed.output[-3000:]
    assert "run `make up`" in failed.output, failed.output[-3000:]
    stack.up("--refresh")  # a new store process, a new backup key: the archiver gets it
    wait_for("the archiver healthy", lambda: not status(stack)["errors"])
    healed = stack.smoke("-k", "backups")
    assert healed.returncode == 0, healed.output[-3000:]


def processes_naming(text: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def test_a_base_backup_killed_midway_is_healed_by_up(stack: LocalProject) -> None:
    before = complete_backups(stack)
    url = backup_output(stack)["status_url"].replace("/status", "/base-backup")
    status(stack)  # its URL read before the clock starts
    assert httpx.post(url, timeout=5).status_code == 202
    wait_for("the base backup to start", lambda: bool(status(stack)["base_backup_running"]), 30)
    killed = status(stack)["base_backup_running"]
    stack.kill_server("backups")  # kill -9 midway
    stack.up("--refresh")
    # The killed run's pg_basebackup is gone with it (same session, working in its folder).
    assert processes_naming(f"{stack.root}/.pulumi-local/servers/backups/partial/{killed}") == []
    backup = backup_output(stack)
    wait_for(
        "a new complete base backup",
        lambda: len(complete_backups(stack, backup)) > len(before),
        90,
    )
    assert killed not in complete_backups(stack, backup)
    assert not status(stack)["errors"]


# --- the drill (recovery/local_drill.py) --------------------------------------------------


def admin_url(project: LocalProject) -> str:
    return str(backup_output(project)["admin_url"])


def scratch_of(report: dict[str, Any]) -> Path:
    """The drill's scratch folder, as its report names it."""
    note = next(n for n in report["notes"] if n.startswith("scratch "))
    return Path(note.split()[1])


def drill(project: LocalProject, *args: str, timeout: float = 300) -> tuple[Any, dict[str, Any]]:
    report = project.root / "drill.json"
    report.unlink(missing_ok=True)
    result = project.gate("drill", "local", "--json", str(report), *args, timeout=timeout)
    return result, (json.loads(report.read_text()) if report.exists() else {})


def proofs(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in report["proofs"]}


def test_a_drill_is_green_on_the_live_stack_and_leaves_it_alone(stack: LocalProject) -> None:
    pid = stack.server_pid("postgres")
    result, report = drill(stack)
    assert result.returncode == 0, result.output[-3000:]
    assert report["passed"] and report["ended"] == "finished", report
    found = proofs(report)
    assert all(p["ok"] and not p["skipped"] for p in found.values()), found
    assert {"manifest", "ledger", "rls", "pgvector", "row_counts", "markers", "checksums"} <= set(
        found
    )
    assert "present" in found["markers"]["detail"] and "absent" in found["markers"]["detail"]
    assert "DRILL: all" in result.output
    assert stack.server_pid("postgres") == pid  # the live server was never restarted
    assert not scratch_of(report).exists()


def write_marker(project: LocalProject, label: str) -> int:
    """A row of the drill's marker table (the drills create it)."""
    import psycopg

    with psycopg.connect(admin_url(project), autocommit=True) as conn:
        row = conn.execute(
            "insert into mentora_backup.drill_markers (label) values (%s) returning id", (label,)
        ).fetchone()
        assert row is not None
        return int(row[0])


def switch_wal(project: LocalProject) -> None:
    import psycopg

    with psycopg.connect(admin_url(project), autocommit=True) as conn:
        name = conn.execute("select pg_walfile_name(pg_switch_wal())").fetchone()[0]
    backup = backup_output(project)
    key = layout.wal_key(name)
    wait_for(
        f"{key} archived",
        lambda: bool(
            s3(backup).list_objects_v2(Bucket=backup["bucket"], Prefix=key).get("KeyCount")
        ),
    )


def test_a_drill_to_a_time_between_two_writes(stack: LocalProject) -> None:
    write_marker(stack, "between-first")
    time.sleep(1.5)
    target = datetime.now(UTC).isoformat()
    time.sleep(1.5)
    write_marker(stack, "between-second")
    switch_wal(stack)
    result, report = drill(stack, "--at", target)
    assert result.returncode == 0, result.output[-3000:]
    markers = proofs(report)["markers"]
    assert markers["ok"], markers
    assert "'between-first': present" in markers["detail"], markers
    assert "'between-second': absent" in markers["detail"], markers
    assert proofs(report)["row_counts"]["skipped"]  # not known at a past TIME


def newest_backup_key(project: LocalProject, name: str) -> str:
    return layout.base_key(complete_backups(project)[-1], name)


def test_a_corrupted_base_backup_fails_the_drill_naming_the_file(stack: LocalProject) -> None:
    backup = backup_output(stack)
    client, key = s3(backup), newest_backup_key(stack, "base.tar.gz")
    original = client.get_object(Bucket=backup["bucket"], Key=key)["Body"].read()
    damaged = original[:1000] + bytes([original[1000] ^ 0xFF]) + original[1001:]
    client.put_object(Bucket=backup["bucket"], Key=key, Body=damaged)
    try:
        result, report = drill(stack)
    finally:
        client.put_object(Bucket=backup["bucket"], Key=key, Body=original)
    assert result.returncode == 1, result.output[-3000:]
    assert f"s3://{backup['bucket']}/{key} is damaged" in report["ended"], report
    assert not scratch_of(report).exists()  # removed on failure


def test_a_missing_wal_segment_fails_the_drill_naming_it(stack: LocalProject) -> None:
    backup = backup_output(stack)
    client = s3(backup)
    info = layout.BackupInfo.from_json(
        client.get_object(Bucket=backup["bucket"], Key=newest_backup_key(stack, layout.INFO))[
            "Body"
        ].read()
    )
    write_marker(stack, "gap")
    switch_wal(stack)
    start = layout.segment_number(info.start_segment)
    listed = client.list_objects_v2(Bucket=backup["bucket"], Prefix=layout.WAL_PREFIX)
    after_start = sorted(
        name
        for item in listed["Contents"]
        if layout.SEGMENT.match(name := layout.segment_of(item["Key"]))
        and layout.segment_number(name) > start
    )
    key = layout.wal_key(after_start[0])  # a gap between the backup and TIME
    original = client.get_object(Bucket=backup["bucket"], Key=key)["Body"].read()
    client.delete_object(Bucket=backup["bucket"], Key=key)
    try:
        result, report = drill(stack)
    finally:
        client.put_object(Bucket=backup["bucket"], Key=key, Body=original)
    assert result.returncode == 1, result.output[-3000:]
    assert f"WAL segment s3://{backup['bucket']}/{key} is missing" in report["ended"], report


def test_ctrl_c_during_a_drill_removes_the_scratch_server(stack: LocalProject) -> None:
    import subprocess
    import sys

    import psycopg

    with psycopg.connect(admin_url(stack), autocommit=True) as conn:
        for _ in range(24):  # 24 segments to replay: the drill is still replaying at the signal
            conn.execute("select pg_logical_emit_message(false, 'test', 'x')")
            conn.execute("select pg_switch_wal()")
    command = [sys.executable, "-c", "from gate.cli import main; main()", "drill", "local"]
    proc = subprocess.Popen(
        command,
        cwd=stack.root,
        env=stack.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen = []
    scratch = None
    for line in proc.stdout:  # bounded: the drill ends by itself within its own deadlines
        seen.append(line)
        if "drill: scratch server in " in line:
            scratch = Path(line.split("drill: scratch server in ", 1)[1].strip())
        if "drill: replaying" in line:
            time.sleep(0.5)  # the scratch postgres is starting or replaying
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(seen) + rest
    assert scratch is not None and not scratch.exists()
    assert processes_naming(str(scratch)) == []


# --- restore (recovery/local_restore.py) --------------------------------------------------


def marker_ids(project: LocalProject) -> set[int]:
    import psycopg

    with psycopg.connect(admin_url(project), autocommit=True) as conn:
        return {r[0] for r in conn.execute("select id from mentora_backup.drill_markers")}


def test_restore_refuses_a_held_stack_and_touches_nothing(stack: LocalProject) -> None:
    from gate.lock import gate_lock

    pid = stack.server_pid("postgres")
    with gate_lock("local", stack.root):
        result = stack.gate("restore", "local", "--to", time.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert result.returncode == Exit.BUSY, result.output[-3000:]
    assert stack.server_pid("postgres") == pid


def test_restore_recovers_the_older_data_then_the_gate_is_green(stack: LocalProject) -> None:
    kept = write_marker(stack, "restore-kept")
    time.sleep(1.5)
    target = datetime.now(UTC).isoformat()
    time.sleep(1.5)
    lost = write_marker(stack, "restore-lost")
    switch_wal(stack)
    result = stack.gate("restore", "local", "--to", target, timeout=600)
    assert result.returncode == 0, result.output[-4000:]
    assert "SMOKE: all" in result.output, result.output[-3000:]
    ids = marker_ids(stack)
    assert kept in ids and lost not in ids
    aside = list((stack.state_dir / "postgres").glob("pgdata.before-restore-*"))
    assert len(aside) == 1 and (aside[0] / "PG_VERSION").exists()  # the previous data, kept
    # The new timeline is archived: a drill after the restore is green.
    after, report = drill(stack)
    assert after.returncode == 0, after.output[-3000:]
    # Kept until the next green gate after the restore's own one, which removes it and says so.
    assert "until the next green gate after this one" in result.output
    gate = stack.gate("up", "local", timeout=400)
    assert gate.returncode == 0, gate.output[-3000:]
    assert f"removed {aside[0]}" in " ".join(gate.output.split()), gate.output[-3000:]
    assert not aside[0].exists() and (stack.state_dir / "postgres" / "pgdata").is_dir()
