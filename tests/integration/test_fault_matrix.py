"""Fault matrix on the real local stack: make one fault, smoke must fail fast naming it, and the
documented heal must bring the stack back green before the next fault.

Heals, as a user would run them:
- a dead server: `pulumi up --refresh` (refresh sees it dead, the update restarts it);
- schema damage (a dropped table, the `vector` extension gone): the migration ledger still lists
  every file, so refresh and `up` change nothing; `pulumi up --replace <database-server urn>`
  rebuilds the local database and the migrations apply to it from zero;
- a public bucket: nothing in the state records the bucket's settings (`up --refresh` does not
  notice), so the private settings go back through the S3 API.
Dead Redis and dead Postgres are covered by test_local_stack.py.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from components.local.ownership import pid_alive
from devtools.project import SERVERS, CommandResult, LocalProject, port_open
from smoke.clients.s3 import BLOCK_FLAGS
from smoke.plugin import LOCAL_CHECK_TIMEOUT_S

# A dead service is refused at once: no check of it may last one call timeout (smoke's default
# --check-timeout on the local stack). The 5 s for the whole run is measured (printed
# here, timed in bench/): on the shared 2-core CI machine a green run alone takes 3-7 s, so the
# run's own bound only catches a hang.
REFUSED_WITHIN_S = LOCAL_CHECK_TIMEOUT_S
HANG_S = 15.0
SERVICES = ("database", "cache", "storage", "app")
# config key -> (state resource, data dir under .pulumi-local/servers)
PORT_OWNERS = {
    "postgresPort": ("database-server", "postgres"),
    "redisPort": ("cache-server", "redis"),
    "storagePort": ("storage-server", "s3"),
    "appPort": ("app-process", "app"),
}


def failed_services(result: CommandResult) -> set[str]:
    """The services of the summary's `SMOKE: FAILED (services: ...)` line."""
    assert result.returncode == 1, result.output[-3000:]
    found = re.search(r"SMOKE: FAILED \(services: ([\w, ]+)\)", result.output)
    assert found, result.output[-3000:]
    return set(found.group(1).split(", "))


def assert_only_failed(result: CommandResult, service: str) -> None:
    """`service` failed and no other service did (cross-cutting `security` checks may follow
    a damaged service down)."""
    failed = failed_services(result)
    assert service in failed and not failed & (set(SERVICES) - {service}), failed


def assert_fails_fast(project: LocalProject, service: str, what: str) -> CommandResult:
    """Smoke fails naming only `service` (bar `security`), each of its checks refused within
    REFUSED_WITHIN_S, the run well within HANG_S; the measured times are printed."""
    report = project.root / "reports" / f"dead-{service}.json"
    failed = project.smoke("--json-report", str(report))
    assert_only_failed(failed, service)
    checks = json.loads(report.read_text())["checks"]
    slow = {
        c["check"]: c["duration_s"]
        for c in checks
        if c["service"] == service
        and c["outcome"] == "failed"
        and c["duration_s"] >= REFUSED_WITHIN_S
    }
    assert slow == {}, f"{service} checks waited instead of failing at once: {slow}"
    session = re.search(r" in ([\d.]+)s", failed.output.splitlines()[-1])
    inside = session.group(1) if session else "?"
    print(f"\nsmoke with {what}: {failed.seconds:.2f}s wall, {inside}s inside pytest")
    assert failed.seconds < HANG_S, f"smoke took {failed.seconds:.1f}s with {what}"
    return failed


def assert_green(project: LocalProject) -> None:
    for key, port in project.server_ports.items():
        assert port_open(port), f"{key} {port} not listening after the heal"
    healed = project.smoke()
    assert healed.returncode == 0 and "SMOKE: all" in healed.output, healed.output[-4000:]


def refresh_heals(project: LocalProject) -> None:
    project.up("--refresh")
    assert_green(project)


def app_url(project: LocalProject) -> str:
    return f"http://127.0.0.1:{project.ports['appPort']}"


def test_up(local_project: LocalProject) -> None:
    local_project.up()
    assert all(port_open(port) for port in local_project.server_ports.values())


def test_dead_storage_fails_smoke_fast_and_refresh_heals(local_project: LocalProject) -> None:
    local_project.kill_server("s3")
    try:
        health = httpx.get(f"{app_url(local_project)}/api/health", timeout=5)
        services = health.json()["services"]
        if "storage" in services:
            assert health.status_code == 503 and services["storage"]["healthy"] is False
        else:  # the reference app probes database and cache only: the smoke suite must catch it
            assert health.status_code == 200, health.text

        failed = assert_fails_fast(local_project, "storage", "the S3 store dead")
        port = local_project.ports["storagePort"]
        assert f"storage: bucket mentora-videos at 127.0.0.1:{port} refused connection" in (
            failed.output
        )
    finally:
        refresh_heals(local_project)


def test_dead_app_fails_smoke_fast_and_refresh_heals(local_project: LocalProject) -> None:
    local_project.kill_server("app")
    try:
        failed = assert_fails_fast(local_project, "app", "the app dead")
        port = local_project.ports["appPort"]
        assert f"app: GET /api/health at 127.0.0.1:{port} refused connection" in failed.output
        assert f"app: POST /api/chat x25 at 127.0.0.1:{port} refused connection" in failed.output
        assert "During handling of the above exception" not in failed.output
    finally:
        refresh_heals(local_project)


@pytest.mark.parametrize(("server", "service"), [("jobs", "jobs"), ("errors", "errors")])
def test_a_dead_job_queue_or_error_tracker_fails_its_check_and_refresh_heals(
    local_project: LocalProject, server: str, service: str
) -> None:
    local_project.kill_server(server)
    try:
        failed = local_project.smoke()
        assert failed.returncode == 1, failed.output[-3000:]
        assert service in failed_services(failed), failed.output[-3000:]
        assert f"{service}: " in failed.output
        assert "During handling of the above exception" not in failed.output
    finally:
        refresh_heals(local_project)


def test_wrong_redis_password_is_named_without_printing_any_password(
    local_project: LocalProject, tmp_path: Path
) -> None:
    outputs = json.loads(local_project.outputs(show_secrets=True).output)
    right = re.match(r"redis://[^:]*:([^@]+)@", outputs["redis_url"])
    assert right
    wrong = secrets.token_urlsafe(24)
    outputs["redis_url"] = outputs["redis_url"].replace(f":{right.group(1)}@", f":{wrong}@")
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps(outputs))

    failed = local_project.smoke_file(saved)
    port = local_project.ports["redisPort"]
    assert_only_failed(failed, "cache")
    assert f"cache: redis at 127.0.0.1:{port} rejected the credentials" in failed.output
    for label, value in (("wrong", wrong), ("right", right.group(1))):
        assert value not in failed.output, f"the {label} redis password was printed"


def test_schema_damage_is_named_and_a_rebuilt_database_heals(
    local_project: LocalProject,
) -> None:
    server = local_project.resources()["database-server"]
    with psycopg.connect(server["outputs"]["admin_url"], autocommit=True) as conn:
        conn.execute("drop table public.student_achievements")
        conn.execute("drop extension vector cascade")
    try:
        failed = local_project.smoke()
        assert_only_failed(failed, "database")
        assert "database: missing table(s) in public: student_achievements" in failed.output
        assert "database: the pgvector extension is not installed" in failed.output
        # The fix the suite prints is the very heal applied below.
        assert f"pulumi up -s local --replace '{server['urn']}'" in failed.output
    finally:
        # The ledger still lists every migration: only a new database gets them applied again.
        result = local_project.up("--replace", server["urn"])
        assert "replaced" in result.output
        assert_green(local_project)


def storage_client(project: LocalProject) -> tuple[Any, str]:
    import boto3

    outputs = json.loads(project.outputs(show_secrets=True).output)
    client = boto3.client(
        "s3",
        endpoint_url=outputs["storage_endpoint"],
        region_name=outputs["storage_region"],
        aws_access_key_id=outputs["env"]["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=outputs["env"]["AWS_SECRET_ACCESS_KEY"],
    )
    return client, outputs["bucket_name"]


def test_public_bucket_fails_the_settings_check(local_project: LocalProject) -> None:
    client, bucket = storage_client(local_project)
    # On AWS the public access block must go before a public policy is accepted.
    client.delete_public_access_block(Bucket=bucket)
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    client.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    try:
        # The local store's filter still refuses anonymous requests: only the settings tell.
        endpoint = f"http://127.0.0.1:{local_project.ports['storagePort']}"
        assert httpx.get(f"{endpoint}/{bucket}/any", timeout=5).status_code == 403
        failed = local_project.smoke()
        assert_only_failed(failed, "storage")
        assert (
            f"storage: bucket {bucket} is open to the public: it has no public access block; "
            "its policy allows everyone (statement 0); its ACL grants READ to everyone"
        ) in failed.output
    finally:  # back to what the provider provisioned
        client.delete_bucket_policy(Bucket=bucket)
        client.put_bucket_acl(Bucket=bucket, ACL="private")
        client.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=dict.fromkeys(BLOCK_FLAGS, True)
        )
    assert_green(local_project)


def test_destroy_leaves_no_process_and_no_data(local_project: LocalProject) -> None:
    pids = {service: local_project.server_pid(service) for service in SERVERS}
    assert all(pids.values()), pids
    local_project.run("destroy", "--yes", "--skip-preview")
    assert [s for s, pid in pids.items() if pid and pid_alive(pid)] == []
    assert [k for k, port in local_project.ports.items() if port_open(port)] == []
    assert not local_project.state_dir.exists() or list(local_project.state_dir.iterdir()) == []
    assert not local_project.env_file.exists()


def recorded(project: LocalProject) -> dict[str, dict[str, Any]]:
    deployment = project.deployment()
    assert not deployment.get("pending_operations"), "an operation was left half done"
    return {r["urn"].rsplit("::", 1)[-1]: r for r in deployment.get("resources") or []}


def assert_whole_or_absent(project: LocalProject, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Each server of `keys` is either recorded, running and listening, or has left nothing."""
    state = recorded(project)
    for key in keys:
        name, folder = PORT_OWNERS[key]
        listening = port_open(project.ports[key])
        exists = (project.state_dir / folder).exists()
        if name in state:
            assert state[name]["outputs"]["running"] is True and listening and exists, name
        else:
            assert not exists, f"{name} left {folder}/ behind without being recorded"
    return state


def block(*ports: int) -> list[socket.socket]:
    blockers = []
    for port in ports:
        blocker = socket.socket()
        # The server's port can still be in TIME_WAIT right after a destroy.
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        blockers.append(blocker)
    return blockers


def assert_port_error(result: CommandResult, key: str, port: int) -> None:
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in result.output, result.output[-3000:]
    assert f"set mentora:{key} in Pulumi.local.yaml" in result.output


def test_each_port_taken_at_up_is_named_and_nothing_is_created(
    local_project: LocalProject,
) -> None:
    # The program checks every port before it registers anything: one run names all taken
    # ports, and not one server, data folder or state entry is left behind.
    servers = ["postgresPort", "redisPort", "storagePort"]
    ports = local_project.ports
    blockers = block(*(ports[k] for k in servers))
    try:
        result = local_project.run("up", "--yes", "--skip-preview", check=False)
        for key in servers:
            assert_port_error(result, key, ports[key])
        assert "nothing was changed" in result.output
        assert only_the_stack(assert_whole_or_absent(local_project, [*servers, "appPort"]))
    finally:
        for blocker in blockers:
            blocker.close()

    [blocker] = block(ports["appPort"])  # the last server alone: still nothing is created
    with blocker:
        result = local_project.run("up", "--yes", "--skip-preview", check=False)
        assert_port_error(result, "appPort", ports["appPort"])
        assert only_the_stack(assert_whole_or_absent(local_project, [*servers, "appPort"]))


def only_the_stack(state: dict[str, dict[str, Any]]) -> bool:
    """Whether the state holds nothing but the stack resource itself."""
    return [r["type"] for r in state.values() if r["type"] != "pulumi:pulumi:Stack"] == []


def test_up_again_completes_the_stack(local_project: LocalProject) -> None:
    local_project.up()
    assert_green(local_project)
