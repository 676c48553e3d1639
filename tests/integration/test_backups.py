"""Backups on one shared local stack (archive_timeout 5 s): archiving on after a plain `up`, an
archiver failure named by smoke with its fix and healed by `up`, a base backup killed midway
healed by `up`; the drill and restore (recovery/) against the same stack."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devtools.project import LocalProject
from recovery import archive_layout as layout

ARCHIVE_TIMEOUT_S = 5


@pytest.fixture(scope="module")
def stack(local_project: LocalProject) -> LocalProject:
    local_project.run("config", "set", "mentora:archiveTimeout", str(ARCHIVE_TIMEOUT_S))
    local_project.up()
    return local_project


def backup_output(project: LocalProject) -> dict[str, Any]:
    return dict(json.loads(project.outputs(show_secrets=True).output)["backup"])


def status(project: LocalProject) -> dict[str, Any]:
    return dict(httpx.get(backup_output(project)["status_url"], timeout=5).json())


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


def complete_backups(project: LocalProject) -> list[str]:
    backup = backup_output(project)
    listed = s3(backup).list_objects_v2(Bucket=backup["bucket"], Prefix=layout.BASE_PREFIX)
    return sorted(
        item["Key"].split("/")[1]
        for item in listed.get("Contents", [])
        if item["Key"].endswith(layout.INFO)
    )


def test_a_plain_up_archives_and_smoke_checks_freshness(stack: LocalProject) -> None:
    wait_for("a base backup", lambda: bool(complete_backups(stack)))
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
    assert httpx.post(url, timeout=5).status_code == 202
    wait_for("the base backup to start", lambda: bool(status(stack)["base_backup_running"]), 30)
    killed = status(stack)["base_backup_running"]
    stack.kill_server("backups")  # kill -9 midway
    stack.up("--refresh")
    # The killed run's pg_basebackup is gone with it (same session, working in its folder).
    assert processes_naming(f"{stack.root}/.pulumi-local/servers/backups/partial/{killed}") == []
    wait_for("a new complete base backup", lambda: len(complete_backups(stack)) > len(before), 90)
    assert killed not in complete_backups(stack)
    assert not status(stack)["errors"]

