"""`mentora-infra drift` against one real local stack (issue 23, items 1-2), attacker first:
settings are changed out of band the way an operator or an intruder would (the bucket made
public, Redis `maxmemory` raised, the app role made SUPERUSER, Redis' password changed, a
server killed); `drift` must name each, exit 6 and leave the stack's checkpoint byte-identical;
`pulumi up --refresh` (what `make up` runs) must put everything back in place, keeping the data
and replacing nothing, after which `drift` is clean. One stack for the module: it costs one
`up`, four refresh previews and one repairing `up`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.project import CommandResult, LocalProject
from gate.exitcodes import Exit
from gate.lock import gate_lock
from tests.integration.test_secret_leaks import spellings, stack_secrets

MARKER = "drift:kept"


def checkpoint(project: LocalProject) -> dict[str, str]:
    """sha256 of every file of the stack's backend (checkpoint, its backup, history)."""
    backend = project.root / ".pulumi-local" / "backend"
    return {
        str(p.relative_to(backend)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(backend.rglob("*"))
        if p.is_file()
    }


def drift(project: LocalProject, tmp: Path, name: str) -> tuple[CommandResult, dict[str, Any]]:
    """Run the copy's `mentora-infra drift local --json`; its result and its JSON report."""
    report = tmp / f"{name}.json"
    result = project.gate("drift", "local", "--json", str(report), timeout=120)
    document = json.loads(report.read_text()) if report.exists() else {}
    return result, document


def rows(document: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {(d["resource"], d["property"]): (d["expected"], d["actual"]) for d in document["drift"]}


def outs(project: LocalProject, name: str) -> dict[str, Any]:
    return dict(project.resources()[name]["outputs"])


def s3_client(storage: dict[str, Any]) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        "s3",
        endpoint_url=storage["endpoint"],
        region_name=storage["region"],
        aws_access_key_id=storage["access_key_id"],
        aws_secret_access_key=storage["secret_access_key"],
    )


@pytest.fixture(scope="module")
def stack(local_project: LocalProject) -> Iterator[LocalProject]:
    """The module's stack, up, with one Redis key and one object written before any attack."""
    import redis

    local_project.up()
    cache = outs(local_project, "cache-server")
    client = redis.Redis(host="127.0.0.1", port=int(cache["port"]), password=cache["password"])
    client.set(MARKER, "1")
    client.close()
    storage = outs(local_project, "storage-server")
    s3_client(storage).put_object(Bucket=storage["bucket"], Key=MARKER, Body=b"1")
    yield local_project


def test_drift_names_the_public_bucket_the_raised_maxmemory_and_the_superuser_app_role(
    stack: LocalProject, tmp_path: Path
) -> None:
    import psycopg
    import redis

    cache, storage = outs(stack, "cache-server"), outs(stack, "storage-server")
    database = outs(stack, "database-server")
    client = redis.Redis(host="127.0.0.1", port=int(cache["port"]), password=cache["password"])
    client.config_set("maxmemory", "536870912")  # raised (a lower one evicts keys)
    client.close()
    with psycopg.connect(database["admin_url"], autocommit=True) as conn:
        conn.execute(f'alter role "{database["app_user"]}" superuser')
    s3 = s3_client(storage)
    s3.delete_public_access_block(Bucket=storage["bucket"])
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{storage['bucket']}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=storage["bucket"], Policy=json.dumps(public))
    s3.put_bucket_acl(Bucket=storage["bucket"], ACL="public-read")
    before = checkpoint(stack)

    result, document = drift(stack, tmp_path, "first")

    print(result.output)  # README's example table is this output (pytest -s shows it)
    assert result.returncode == Exit.DRIFT, result.output
    assert checkpoint(stack) == before  # a preview: nothing of the state was written
    found = rows(document)
    assert found[("cache-server", "maxmemory")] == ("268435456", "536870912")
    assert found[("database-server", "app role superuser")] == ("no", "yes")
    assert found[("storage-server", "public access block")] == ("all four on", "none")
    assert found[("storage-server", "bucket policy")][1].endswith("1 public (Principal *)")
    assert found[("storage-server", "acl")] == ("no public grant", "READ to everyone")
    table = [line.split() for line in result.output.splitlines()]
    for resource, prop in found:  # the table names each too
        assert any(row[:1] == [resource] and " ".join(row[1:]).startswith(prop) for row in table)


def test_drift_names_a_changed_redis_password_and_a_dead_server_and_masks_secrets(
    stack: LocalProject, tmp_path: Path
) -> None:
    import redis

    cache = outs(stack, "cache-server")
    intruder = "intruder-password-" + hashlib.sha256(b"drift").hexdigest()[:16]
    client = redis.Redis(host="127.0.0.1", port=int(cache["port"]), password=cache["password"])
    client.config_set("requirepass", intruder)
    client.close()
    stack.kill_server("jobs")  # a dead server is drift too, never a crash of `drift`
    before = checkpoint(stack)

    result, document = drift(stack, tmp_path, "second")

    assert result.returncode == Exit.DRIFT, result.output
    assert checkpoint(stack) == before
    found = rows(document)
    assert found[("cache-server", "auth")] == (
        "the stack's password only",
        "the stack's password is refused (settings unreadable)",
    )
    assert found[("jobs-server", "running")] == ("yes", "no")
    assert found[("jobs-server", "listen")][1] == "nothing listens"
    assert "Traceback" not in result.output
    # No secret of the stack, nor the intruder's password, in the table or the JSON.
    secrets = {**stack_secrets(stack), intruder: "the intruder's password"}
    text = result.output + (tmp_path / "second.json").read_text()
    leaked = [
        where for value, where in secrets.items() for form in spellings(value) if form in text
    ]
    assert leaked == []


def test_drift_is_busy_while_another_gate_holds_the_stack(
    stack: LocalProject, tmp_path: Path
) -> None:
    before = checkpoint(stack)
    with gate_lock("local", stack.root):
        result, document = drift(stack, tmp_path, "busy")
    assert result.returncode == Exit.BUSY, result.output
    assert "another gate is running" in result.output
    assert document == {} and checkpoint(stack) == before


def test_up_repairs_every_setting_in_place_then_drift_is_clean(
    stack: LocalProject, tmp_path: Path
) -> None:
    import psycopg
    import redis

    postmaster = stack.server_pid("postgres")

    repaired = stack.up("--refresh")

    assert " replaced" not in repaired.output and "replace]" not in repaired.output
    result, document = drift(stack, tmp_path, "after")
    assert result.returncode == Exit.GREEN, result.output
    assert document["drift"] == [] and "no drift" in result.output
    # Repaired in place: the database was not restarted (ALTER ROLE), the data is all there.
    assert stack.server_pid("postgres") == postmaster
    cache, database = outs(stack, "cache-server"), outs(stack, "database-server")
    client = redis.Redis(host="127.0.0.1", port=int(cache["port"]), password=cache["password"])
    assert client.get(MARKER) == b"1" and client.config_get("maxmemory")["maxmemory"] == str(
        256 * 1024 * 1024
    )
    client.close()
    with psycopg.connect(database["admin_url"]) as conn:
        row = conn.execute(
            "select rolsuper from pg_roles where rolname = %s", (database["app_user"],)
        ).fetchone()
    assert row == (False,)
    storage = outs(stack, "storage-server")
    s3 = s3_client(storage)
    assert s3.get_object(Bucket=storage["bucket"], Key=MARKER)["Body"].read() == b"1"
    block = s3.get_public_access_block(Bucket=storage["bucket"])
    assert all(block["PublicAccessBlockConfiguration"].values())
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=storage["bucket"])
    grants = s3.get_bucket_acl(Bucket=storage["bucket"])["Grants"]
    assert not [g for g in grants if "URI" in g.get("Grantee", {})]
