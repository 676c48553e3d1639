"""What survives a crash (kill -9) of each local server and its restart by `pulumi up --refresh`,
stated as a test: Postgres rows and Redis keys survive (Redis writes every command to its AOF
before replying); the local S3 store keeps its objects (each change recorded in its data dir before
it is answered, components/local/s3_journal.py) and comes back with a new key pair; Bugsink
keeps its project, DSN and token (SQLite)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
import redis

from devtools.project import LocalProject

MARKER = "durability-marker"


@pytest.fixture(scope="module")
def running(local_project: LocalProject) -> LocalProject:
    local_project.up()
    return local_project


def outputs(project: LocalProject) -> dict[str, Any]:
    return dict(json.loads(project.outputs(show_secrets=True).output))


def s3_client(out: dict[str, Any]) -> Any:
    import boto3  # type: ignore[import-untyped]

    env = out["env"]
    return boto3.client(
        "s3",
        endpoint_url=out["storage_endpoint"],
        region_name=out["storage_region"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def test_what_survives_a_crash_of_each_server(running: LocalProject) -> None:
    before = outputs(running)
    admin = running.resources()["database-server"]["outputs"]["admin_url"]
    with psycopg.connect(admin, connect_timeout=5, autocommit=True) as conn:
        conn.execute("create table if not exists public.durability (v text)")
        conn.execute("insert into public.durability values (%s)", (MARKER,))
    cache = redis.Redis.from_url(before["redis_url"], socket_timeout=5)
    cache.set(f"smoke:{MARKER}", "kept")
    s3_client(before).put_object(Bucket=before["bucket_name"], Key=MARKER, Body=b"x")
    tracker = running.resources()["errors-server"]["outputs"]

    for service in ("postgres", "redis", "s3", "errors"):
        running.kill_server(service)
    running.up("--refresh")
    after = outputs(running)

    with psycopg.connect(admin, connect_timeout=5) as conn:
        rows = conn.execute("select count(*) from public.durability where v = %s", (MARKER,))
        assert rows.fetchone() == (1,), "postgres lost a committed row"
    assert (
        redis.Redis.from_url(after["redis_url"], socket_timeout=5).get(f"smoke:{MARKER}") == b"kept"
    ), "redis lost a key (AOF, fsync always)"
    # The S3 store keeps the object (its snapshot) and issues a new key pair (IAM is not saved).
    assert after["env"]["AWS_ACCESS_KEY_ID"] != before["env"]["AWS_ACCESS_KEY_ID"]
    kept = s3_client(after).get_object(Bucket=after["bucket_name"], Key=MARKER)
    assert kept["Body"].read() == b"x", "the S3 store lost an object"
    healed = running.resources()["errors-server"]["outputs"]
    assert (healed["dsn"], healed["api_token"]) == (tracker["dsn"], tracker["api_token"])
    smoke = running.smoke()
    assert smoke.returncode == 0, smoke.output[-3000:]


def test_changing_ports_moves_the_servers_with_their_data(running: LocalProject) -> None:
    """Issue 19's reproduction: README's fix for a port conflict (`pulumi config set
    mentora:<server>Port`) on three servers, then `up`: the servers were replaced and the row,
    the key and the object were gone with the gate green. Now each server moves."""
    from devtools.ports import free_port

    before = outputs(running)
    admin = running.resources()["database-server"]["outputs"]["admin_url"]
    with psycopg.connect(admin, connect_timeout=5, autocommit=True) as conn:
        conn.execute("create table if not exists public.moved (v text)")
        conn.execute("insert into public.moved values ('kept')")
    redis.Redis.from_url(before["redis_url"], socket_timeout=5).set("smoke:moved", "kept")
    s3_client(before).put_object(Bucket=before["bucket_name"], Key="moved", Body=b"kept")
    tracker = running.resources()["errors-server"]["outputs"]
    for key in ("postgresPort", "redisPort", "storagePort", "errorTrackerPort"):
        running.ports[key] = free_port()
        running.run("config", "set", f"mentora:{key}", str(running.ports[key]))
    moved = running.up()
    assert "replace" not in moved.output and "deleted" not in moved.output, moved.output[-3000:]
    after = outputs(running)
    admin = running.resources()["database-server"]["outputs"]["admin_url"]
    assert f":{running.ports['postgresPort']}/" in admin
    with psycopg.connect(admin, connect_timeout=5) as conn:
        assert conn.execute("select v from public.moved").fetchall() == [("kept",)]
    assert redis.Redis.from_url(after["redis_url"], socket_timeout=5).get("smoke:moved") == b"kept"
    assert s3_client(after).get_object(Bucket=after["bucket_name"], Key="moved")["Body"].read()
    healed = running.resources()["errors-server"]["outputs"]
    assert healed["api_token"] == tracker["api_token"]
    assert f":{running.ports['errorTrackerPort']}/" in healed["dsn"]
    smoke = running.smoke()
    assert smoke.returncode == 0, smoke.output[-3000:]


def test_a_change_that_would_lose_data_is_refused_before_anything_is_touched(
    running: LocalProject,
) -> None:
    """A new database name would replace the Postgres server and lose every table: refused,
    naming what would be lost and the safe ways, before anything is touched."""
    before = running.resources()
    running.run("config", "set", "mentora:databaseName", "renamed")
    try:
        refused = running.run("up", "--yes", check=False)
        assert refused.returncode != 0
        out = refused.output
        assert "postgres: changing database 'mentora' -> 'renamed' would replace" in out, out
        assert "lose its databases (every table, row and role)" in out
        assert "Set mentora:databaseName in Pulumi.local.yaml back" in out
        assert "--allow-data-loss" in out
        assert running.resources() == before  # nothing was touched
    finally:
        running.run("config", "set", "mentora:databaseName", "mentora")
    smoked = running.smoke()
    assert smoked.returncode == 0, smoked.output[-3000:]
