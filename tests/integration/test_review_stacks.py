"""Review stacks on the real machine (issue 22): a `local` base plus two review stacks up at
once, all green; isolation proven by cross-access attempts; a killed `review up` and an expired
TTL swept; `review down` leaving nothing, checked against the system (processes, ports, folders,
files, the backend, the OS user), not against review's own record.

One module, one throwaway project: every test shares its stacks (tests run in file order)."""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil
import pytest

from devtools.project import REPO, CommandResult, LocalProject, port_open
from gate.exitcodes import Exit

PRS = (1, 2)  # pr-2 has a 1 s TTL: isolation is proven before the sweep removes it
KILLED = 4
UP_TIMEOUT_S = 420


def review(project: LocalProject, *args: str, timeout: float = UP_TIMEOUT_S) -> CommandResult:
    return project.gate("review", *args, timeout=timeout)


def outputs(project: LocalProject, stack: str) -> dict[str, Any]:
    done = subprocess.run(
        ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack],
        cwd=project.root, env=project.env(), capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout))


def record(project: LocalProject, stack: str) -> dict[str, Any]:
    return dict(
        json.loads((project.root / ".pulumi-local" / "review" / f"{stack}.json").read_text())
    )


def backend_stacks(project: LocalProject) -> set[str]:
    done = subprocess.run(
        ["pulumi", "stack", "ls", "--json"], cwd=project.root, env=project.env(),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return {s["name"] for s in json.loads(done.stdout)}


def base_resources(project: LocalProject) -> list[str]:
    """The base `local` stack's resources (URNs) and its servers' live pids."""
    urns = sorted(r["urn"] for r in project.deployment().get("resources") or [])
    servers = project.state_dir
    pids = sorted(str(json.loads(p.read_text())["pid"]) for p in servers.glob(".*.owner.json"))
    return urns + pids


def in_base_store(shared: dict[str, Any], bucket: str, user: str) -> list[str]:
    """The bucket and IAM user the base's S3 store still has, asked with its admin key."""
    import boto3
    from botocore.exceptions import ClientError

    keys = {
        "endpoint_url": shared["storage_endpoint"],
        "region_name": "us-east-1",
        "aws_access_key_id": shared["storage_admin_key_id"],
        "aws_secret_access_key": shared["storage_admin_secret"],
    }
    left = [f"bucket {bucket}"]
    try:
        boto3.client("s3", **keys).head_bucket(Bucket=bucket)
    except ClientError:
        left = []
    users = boto3.client("iam", **keys).list_users()["Users"]
    return left + [f"IAM user {user}" for u in users if u["UserName"] == user]


def what_is_left(project: LocalProject, stack: str, ports: dict[str, int]) -> list[str]:
    """Everything of `stack` the system still has, asked of the system itself."""
    folder = os.path.realpath(project.root / ".pulumi-local" / "review" / stack)
    left = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cwd = os.path.realpath(proc.cwd())
            argv = " ".join(proc.info["cmdline"] or [])
        except (psutil.Error, OSError):
            continue
        if cwd == folder or cwd.startswith(folder + "/") or folder in argv:
            left.append(f"process {proc.pid}: {argv[:80]}")
    left += [f"port {p}" for p in ports.values() if port_open(p)]
    paths = [
        Path(folder),
        project.root / f"Pulumi.{stack}.yaml",
        project.root / ".pulumi-local" / "review" / f"{stack}.json",
        project.root / ".pulumi-local" / "gate" / f"{stack}.lock",
        project.root / ".pulumi-local" / "gate" / f"review-{stack}.lock",
    ]
    left += [f"path {p}" for p in paths if p.exists()]
    if stack in backend_stacks(project):
        left.append(f"stack {stack}")
    from components.local.postgres_database import present

    shared = outputs(project, "local")["review_base"]
    suffix = stack.replace("-", "_")
    left += present(shared["postgres_admin_url"], f"mentora_{suffix}", f"mentora_app_{suffix}")
    left += in_base_store(shared, f"mentora-videos-{stack}", f"mentora-app-{stack}")
    projects = httpx.get(
        f"{shared['errors_url']}/api/canonical/0/projects/",
        headers={"Authorization": f"Bearer {shared['errors_token']}"},
        timeout=10,
    ).json()["results"]
    left += [f"Bugsink project {p['name']}" for p in projects if p["name"].endswith(stack)]
    if os.geteuid() == 0:
        from components.local.unix_user import service_user_name

        name = service_user_name(Path(folder) / "servers" / "postgres")
        try:
            pwd.getpwnam(name)
            left.append(f"user {name}")
        except KeyError:
            pass
    return left


@pytest.fixture(scope="module")
def fleet(local_project: LocalProject) -> Iterator[dict[str, Any]]:
    """`local`, pr-1 and pr-2 brought up at once (pr-2 with a 1 s TTL), plus a second `review up 1`
    started while the first runs."""
    project = local_project
    results: dict[str, Any] = {}

    def run(name: str, action: Any) -> None:
        results[name] = action()

    started = time.monotonic()
    base_up = ("up", "--yes", "--skip-preview")
    threads = [
        threading.Thread(target=run, args=("local", lambda: project.run(*base_up, check=False)))
    ]
    for pr in PRS:
        ttl = ["--ttl", "1s"] if pr == 2 else []
        threads.append(threading.Thread(target=run, args=(pr, lambda pr=pr, ttl=ttl: review(
            project, "up", str(pr), *ttl))))  # fmt: skip
    for thread in threads:
        thread.start()
    time.sleep(3)  # the first `review up 1` holds its lock by now
    results["twin"] = review(project, "up", "1", timeout=60)
    for thread in threads:
        thread.join(UP_TIMEOUT_S)
    results["seconds"] = time.monotonic() - started
    yield results
    for pr in (*PRS, KILLED):
        review(project, "down", str(pr), "--lock-wait", "30", timeout=120)


COLD_FLAKE = """The first smoke right after a cold start loses checks when the 2 cores are
starved: at load 13 the first Sentry event timed out on a cold `mentora-infra up local` too,
at load 21 client opens 'hung' in five services (2026-12-04). So the cold gates must deploy,
and the update right after (a push to the PR) must be green for every stack."""


def test_local_and_two_review_stacks_at_once_all_smoke_green(
    fleet: dict[str, Any], local_project: LocalProject
) -> None:
    print(f"local + {len(PRS)} review stacks, cold, at once: {fleet['seconds']:.1f}s")
    for pr in PRS:
        # Cold: deployed; its first smoke may lose checks to a starved CPU (see COLD_FLAKE).
        cold = fleet[pr]
        deployed = cold.returncode == 0 or (
            cold.returncode in (1, 3)
            and ("gate: failed: smoke of" in cold.output or "smoke hit its deadline" in cold.output)
        )
        assert deployed, cold.output[-3000:]
        print(f"pr-{pr} cold gate: exit {cold.returncode}")
    # Updated (a push to the PR), all at once beside the base: every gate green.
    again: dict[int, CommandResult] = {}
    threads = [
        threading.Thread(
            target=lambda pr=pr: again.update(
                {pr: review(local_project, "up", str(pr), *(["--ttl", "1s"] if pr == 2 else []))}
            )
        )
        for pr in PRS
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(UP_TIMEOUT_S)
    for pr in PRS:
        assert again[pr].returncode == 0, again[pr].output[-3000:]
        assert "SMOKE: all" in again[pr].output
    assert fleet["local"].returncode == 0, fleet["local"].output[-3000:]
    # The base's first smoke is its cold one (COLD_FLAKE: seen losing only the first Sentry
    # event, as the review stacks' cold gates do); the next must be green, as theirs must.
    first = local_project.smoke()
    print(f"local first smoke: exit {first.returncode}")
    assert first.returncode in (0, 1), first.output[-3000:]
    smoke = local_project.smoke() if first.returncode else first
    assert smoke.returncode == 0, smoke.output[-3000:]
    # Each its own ports, recorded, none of the base's.
    ports = [set(record(local_project, f"pr-{pr}")["ports"].values()) for pr in PRS]
    assert all(not a & b for i, a in enumerate(ports) for b in ports[i + 1 :])
    assert not set(local_project.ports.values()) & set().union(*ports)


def test_a_second_up_of_the_same_pr_is_refused_busy(fleet: dict[str, Any]) -> None:
    twin = fleet["twin"]
    assert twin.returncode == Exit.BUSY, twin.output[-2000:]
    assert "another review command is running" in " ".join(twin.output.split())


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{host}:{port}"))


def test_one_stacks_credentials_open_nothing_of_another(
    fleet: dict[str, Any], local_project: LocalProject
) -> None:
    import boto3
    import psycopg
    import redis
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from components.local.postgres_database import with_database

    a, b = outputs(local_project, "pr-1"), outputs(local_project, "pr-2")
    b_ports = record(local_project, "pr-2")["ports"]
    # Database: both in the base's cluster; pr-1's login against pr-2's database and the base's.
    base_port = local_project.ports["postgresPort"]
    assert {urlsplit(o["database_url"]).port for o in (a, b)} == {base_port}
    for other in (urlsplit(b["database_url"]).path.lstrip("/"), "mentora", "postgres"):
        with pytest.raises(psycopg.OperationalError, match="does not have CONNECT privilege"):
            psycopg.connect(with_database(a["database_url"], other), connect_timeout=5)
    # Redis: pr-1's credentials against pr-2's Redis.
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis.from_url(_with_port(a["redis_url"], b_ports["redisPort"])).ping()
    # Bucket: pr-1's key on pr-2's bucket and the base's, in the store they share.
    s3 = boto3.client(
        "s3",
        endpoint_url=b["storage_endpoint"],
        region_name=a["storage_region"],
        aws_access_key_id=a["env"]["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=a["env"]["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=5),
    )
    assert a["storage_endpoint"] == b["storage_endpoint"]  # both in the base's store
    base_bucket = outputs(local_project, "local")["bucket_name"]
    for bucket in (b["bucket_name"], base_bucket):
        with pytest.raises(ClientError) as refused:
            s3.list_objects_v2(Bucket=bucket)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Errors go to the stack's own project in the base's Bugsink; the base's token, which
    # reads every project, is smoke's (smoke_env), never in the app's env.
    base = outputs(local_project, "local")
    dsns = [urlsplit(out["env"]["SENTRY_DSN"]) for out in (a, b, base)]
    assert {dsn.port for dsn in dsns} == {local_project.ports["errorTrackerPort"]}
    assert len({dsn.path for dsn in dsns}) == 3  # three projects
    for out in (a, b):
        assert "SENTRY_AUTH_TOKEN" not in out["env"] and out["smoke_env"]["SENTRY_AUTH_TOKEN"]


def test_the_base_is_not_destroyed_with_review_stacks_in_its_postgres(
    fleet: dict[str, Any], local_project: LocalProject
) -> None:
    before = base_resources(local_project)
    refused = local_project.gate("destroy", "local", timeout=60)
    assert refused.returncode == Exit.USAGE, refused.output[-2000:]
    assert "holds the databases of review stacks pr-1, pr-2" in " ".join(refused.output.split())
    assert base_resources(local_project) == before


def test_a_job_event_runs_no_function_of_another_stack(
    fleet: dict[str, Any], local_project: LocalProject
) -> None:
    from smoke.clients import jobs_api

    a, b = outputs(local_project, "pr-1"), outputs(local_project, "pr-2")
    target_a = jobs_api.InngestTarget.from_env(a["env"])
    target_b = jobs_api.InngestTarget.from_env(b["env"])
    assert target_a.api_base_url != target_b.api_base_url
    marker = f"smoke:review-isolation-{os.getpid()}:jobs"
    event = jobs_api.send_event(target_a, "video/upload.completed", {"smokeMarker": marker}, 5)
    with httpx.Client(timeout=5) as client:
        run, _ = jobs_api.wait_for_run(client, target_a, event, "process-video", 30)
        assert run.status == "Completed"
        runs_a = jobs_api.fetch_runs(client, target_a, event, 99)
        assert len(runs_a) == 1  # one app's function ran, not one per stack
        answer = client.get(target_b.runs_url(event), params={"attempt": "1"})
        assert answer.status_code == 404 or jobs_api.parse_runs(answer.json()) == []


def test_sweep_removes_a_killed_up_and_an_expired_stack_and_keeps_the_rest(
    fleet: dict[str, Any], local_project: LocalProject
) -> None:
    project = local_project
    stack = f"pr-{KILLED}"
    command = [str(REPO / ".venv" / "bin" / "python"), "-c", "from gate.cli import main; main()"]
    child = subprocess.Popen(
        [*command, "review", "up", str(KILLED)], cwd=project.root, env=project.env(),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    servers = project.root / ".pulumi-local" / "review" / stack / "servers"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(servers.glob("*/.mentora-local")):
        time.sleep(0.1)
    assert any(servers.glob("*/.mentora-local")), "review up never started a server"
    killed_ports = record(project, stack)["ports"]
    os.killpg(child.pid, signal.SIGKILL)  # midway: servers starting, pulumi up running
    child.wait(10)
    expired_ports = record(project, "pr-2")["ports"]
    started = time.monotonic()
    swept = review(project, "sweep", timeout=180)
    took = time.monotonic() - started
    assert swept.returncode == 0, swept.output[-3000:]
    assert f"{stack}: half-made" in swept.output and "pr-2: expired" in swept.output
    assert what_is_left(project, stack, killed_ports) == []
    assert what_is_left(project, "pr-2", expired_ports) == []
    listed = review(project, "list", timeout=60).output
    assert "pr-1" in listed and "pr-2" not in listed
    print(f"sweep of 2 (one half-made): {took:.1f}s")


def test_down_leaves_nothing_and_a_second_down_says_it_is_gone(
    fleet: dict[str, Any], local_project: LocalProject
) -> None:
    project = local_project
    base_before = base_resources(project)
    for pr in (1,):
        ports = record(project, f"pr-{pr}")["ports"]
        down = review(project, "down", str(pr), timeout=120)
        assert down.returncode == 0, down.output[-3000:]
        assert what_is_left(project, f"pr-{pr}", ports) == []
    again = review(project, "down", "1", timeout=60)
    assert again.returncode == 0 and "already gone" in again.output
    assert review(project, "list", timeout=60).output.strip().endswith("no review stacks")
    assert base_resources(project) == base_before  # the base stack is untouched
