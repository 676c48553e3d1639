"""`mentora-infra rotate` on a real local stack (issue 23), attacker first: a paced load on the
app (>= 50 requests/s over /api/health, which touches Postgres and Redis, and /api/storage, which
reads the bucket) runs through every rotation and must see zero failed requests; afterwards each
old credential is refused by its own server (connected to here, not taken from the CLI's word);
a SIGINT at every step, then `rotate` again, ends consistent; the next `up` changes nothing; no
secret, old or new, is in any log or report. One throwaway stack for the whole module.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.load import Load
from devtools.project import CommandResult, LocalProject
from rotation.journal import INTERRUPT_ENV, STEPS
from tests.integration.test_secret_leaks import scan_everything

pytestmark = pytest.mark.integration
OLD: dict[str, str] = {}  # label -> an old credential, for the leak scan at the end
RATE = 90.0  # offered by 6 processes; asserted: >= 50/s answered (a busy machine starves some)
# The interruptions only need the load to see a dead credential, which would fail every request
# from then on: a lighter load leaves the 2 cores to the seven rotations.
INTERRUPTED_RATE = 20.0


@pytest.fixture(scope="module")
def stack(local_project: LocalProject) -> LocalProject:
    local_project.up()
    return local_project


def credentials(project: LocalProject) -> dict[str, Any]:
    res = project.resources()
    return {
        "database": res["database-server"]["outputs"],
        "cache": res["cache-server"]["outputs"],
        "storage": res["storage-server"]["outputs"],
        "errors": res["errors-server"]["outputs"],
        "env": res["app-env-file"]["outputs"]["values"],
    }


def rotate(project: LocalProject, *args: str) -> CommandResult:
    return project.gate("rotate", "local", *args, timeout=240)


def app_url(project: LocalProject) -> str:
    return f"http://127.0.0.1:{project.ports['appPort']}"


def refused_by_postgres(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5):
            return False
    except psycopg.OperationalError:
        return True


def refused_by_redis(out: dict[str, Any], password: str) -> bool:
    import redis

    client = redis.Redis(host="127.0.0.1", port=int(out["port"]), password=password)
    try:
        client.ping()
    except redis.AuthenticationError:
        return True
    finally:
        client.close()
    return False


def refused_by_s3(out: dict[str, Any], key: str, secret: str) -> bool:
    import boto3  # type: ignore[import-untyped]
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    s3 = boto3.client(
        "s3",
        endpoint_url=out["endpoint"],
        region_name=out["region"],
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    try:
        s3.head_bucket(Bucket=out["bucket"])
    except ClientError:
        return True
    return False


def refused_by_bugsink(out: dict[str, Any], token: str) -> bool:
    answer = httpx.get(
        f"{out['url']}/api/canonical/0/projects/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    return answer.status_code in (401, 403)


def test_rotate_all_under_load_drops_nothing_and_the_servers_refuse_the_old(
    stack: LocalProject,
) -> None:
    old = credentials(stack)
    load = Load(app_url(stack), rate=RATE, workers=6).start()
    result = rotate(stack, "all")
    seen = load.stop()
    assert result.returncode == 0, result.output[-3000:]
    assert seen.failed == 0, seen.summary()
    assert seen.rate >= 50 and seen.total >= 100, seen.summary()
    new = credentials(stack)
    db, cache, storage, errors = (old[k] for k in ("database", "cache", "storage", "errors"))
    assert new["database"]["app_url"] != db["app_url"]
    assert new["cache"]["password"] != cache["password"]
    assert new["cache"]["url"].startswith("redis://mentora_a:")  # the app's own ACL user now
    assert new["storage"]["access_key_id"] != storage["access_key_id"]
    assert new["errors"]["api_token"] != errors["api_token"]
    assert refused_by_postgres(db["app_url"])
    assert refused_by_redis(cache, cache["password"])
    assert refused_by_s3(storage, storage["access_key_id"], storage["secret_access_key"])
    assert refused_by_bugsink(errors, errors["api_token"])
    OLD.update(
        {
            "old database_url": db["app_url"],
            "old redis password": cache["password"],
            "old secret_access_key": storage["secret_access_key"],
            "old api_token": errors["api_token"],
        }
    )
    # The state now names the new credentials: the next `up` keeps them (changes nothing).
    stack.run("preview", "--expect-no-changes", "--refresh")


def test_sigint_at_every_step_then_rotate_again_ends_consistent(
    stack: LocalProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    load = Load(app_url(stack), rate=INTERRUPTED_RATE, workers=2).start()
    try:
        for step in STEPS:
            monkeypatch.setenv(INTERRUPT_ENV, step)
            interrupted = rotate(stack, "cache")
            assert interrupted.returncode == 130, f"{step}: {interrupted.output[-2000:]}"
            assert "interrupted" in interrupted.output
        monkeypatch.delenv(INTERRUPT_ENV)
        final = rotate(stack, "cache")
    finally:
        seen = load.stop()
    assert final.returncode == 0, final.output[-3000:]
    assert "interrupted at 'revoked'" in final.output
    # The app never held a credential that did not work, at any of the interruptions.
    assert seen.failed == 0, seen.summary()
    now = credentials(stack)
    assert not (stack.root / ".pulumi-local" / "rotation" / "local.json").exists()
    # One password left, the state's; the app serves the state's env.
    import redis

    out = now["cache"]
    client = redis.Redis(host="127.0.0.1", port=int(out["port"]), password=out["password"])
    try:
        assert len(client.acl_getuser("default")["passwords"]) == 1
        # The app's own ACL user, the state's, is the only other one (issue 23: ACL users).
        assert sorted(client.acl_users()) == ["default", out["app_login"]]
        assert out["app_login"] in ("mentora_a", "mentora_b")
        assert len(client.acl_getuser(out["app_login"])["passwords"]) == 1
    finally:
        client.close()
    health = httpx.get(f"{app_url(stack)}/api/health", timeout=5).json()
    assert health["config"] == now["env"]["MENTORA_CONFIG_FINGERPRINT"]
    stack.run("preview", "--expect-no-changes", "--refresh")


def test_a_running_watch_follows_the_rotation_instead_of_reporting_it_down(
    stack: LocalProject, tmp_path: Path
) -> None:
    """The watch read its outputs before the rotation; the old user it logs in with is deleted
    at the revoke. It must follow the new outputs, never print `-> down` for it."""
    log = tmp_path / "watch.log"
    with log.open("w") as sink:
        watch = subprocess.Popen(
            [sys.executable, "-c", "from gate.cli import main; main()", "watch", "local",
             "--every", "1"],
            cwd=stack.root, env=stack.env(), stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(log, "cache::test_ping new -> up", within_s=30)
        result = rotate(stack, "cache")
        assert result.returncode == 0, result.output[-3000:]
        wait_for(log, "the stack's outputs changed", within_s=15)
        time.sleep(2.5)  # two more rounds with the new outputs
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(timeout=15)
    text = log.read_text()
    assert "-> down" not in text, text[-3000:]


def wait_for(path: Path, text: str, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while text not in path.read_text():
        assert time.monotonic() < deadline, f"no {text!r} within {within_s}s:\n{path.read_text()}"
        time.sleep(0.1)


def test_no_secret_old_or_new_in_any_log_or_report(stack: LocalProject) -> None:
    scan = scan_everything(stack, extra={value: label for label, value in OLD.items()})
    assert scan.hits == [], "secret value(s) found; where: which secret"
