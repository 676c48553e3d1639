"""The security checks without real servers: stack kind, TLS in the outputs' URLs, Redis probed by
fake servers, and the RLS verdicts. Real Postgres and Redis: tests/integration/
test_security_checks.py."""

from __future__ import annotations

import json
import re
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smoke.checks.security import sslmode
from smoke.clients import rls
from smoke.outputs import StackOutputs
from tests.unit.smoke.helpers import (
    PG_PASSWORD,
    REDIS_PASSWORD,
    SMOKE_DIR,
    dead_outputs,
    free_port,
    leaked,
    run_smoke,
)

SECURITY = SMOKE_DIR / "checks" / "security.py"
CLOUD_DB = f"postgresql://postgres.ref:{PG_PASSWORD}@aws-0-x.pooler.supabase.com:6543/postgres"
CLOUD_REDIS = f"rediss://default:{REDIS_PASSWORD}@eu1-x.upstash.io:6379"


def outputs_of(**overrides: Any) -> StackOutputs:
    return StackOutputs.from_json(dead_outputs(1, 2, 3, **overrides), "test")


def run_security(tmp_path: Path, keyword: str, **overrides: Any) -> tuple[int, str]:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(dead_outputs(free_port(), free_port(), free_port(), **overrides)))
    args = ("--outputs-file", path, "-k", keyword, "--check-timeout", "1", "-rA")
    result = run_smoke(tmp_path, SECURITY, *args)
    return result.ret, result.output


@pytest.mark.parametrize(
    ("target", "endpoint", "tls_checked"),
    [
        ("local", "http://127.0.0.1:9090", False),
        ("local", "", False),  # the target output decides, not a guess from the endpoint
        ("cloud", "", True),  # AWS S3
        ("cloud", "http://127.0.0.1:9090", True),
    ],
)
def test_tls_is_required_of_cloud_targets_only(
    tmp_path: Path, target: str, endpoint: str, tls_checked: bool
) -> None:
    ret, out = run_security(
        tmp_path,
        "url_requires_tls",
        target=target,
        storage_endpoint=endpoint,
        database_url=CLOUD_DB + "?sslmode=require",
        redis_url=CLOUD_REDIS,
    )
    assert ret == 0, out
    assert ("2 passed" in out) is tls_checked, out
    assert ("2 skipped" in out) is not tls_checked, out
    if not tls_checked:
        assert "TLS is required of cloud stacks only" in out


def test_sslmode_is_read_from_the_url_query() -> None:
    assert sslmode(CLOUD_DB + "?sslmode=verify-full") == "verify-full"
    assert sslmode(CLOUD_DB + "?application_name=x&sslmode=disable") == "disable"
    assert sslmode(CLOUD_DB) == ""


def test_cloud_urls_without_tls_fail_naming_the_output_and_the_fix(tmp_path: Path) -> None:
    plain_redis = CLOUD_REDIS.replace("rediss://", "redis://")
    ret, out = run_security(
        tmp_path,
        "url_requires_tls",
        target="cloud",
        storage_endpoint="",
        database_url=CLOUD_DB + "?sslmode=prefer",
        redis_url=plain_redis,
    )
    assert ret == 1, out
    assert "2 failed" in out
    assert "database: the database_url output (postgresql://***@aws-0-x.pooler" in out
    assert "has sslmode=prefer, so clients may connect without TLS" in out
    assert "cache: the redis_url output (redis://***@eu1-x.upstash.io:6379) is redis://" in out
    # An outputs file of a cloud target names no stack: the fix says which command, not which one.
    assert "then: pulumi up --stack <stack>" in out and "make up" not in out
    assert not leaked(out)


def test_cloud_urls_with_tls_pass(tmp_path: Path) -> None:
    ret, out = run_security(
        tmp_path,
        "url_requires_tls",
        target="cloud",
        storage_endpoint="",
        database_url=CLOUD_DB + "?sslmode=require",
        redis_url=CLOUD_REDIS,
    )
    assert ret == 0, out
    assert "2 passed" in out


def test_local_stack_skips_tls_with_the_reason(tmp_path: Path) -> None:
    ret, out = run_security(tmp_path, "tls or plain")
    assert ret == 0, out
    assert "3 skipped" in out
    # One line per check, at the check's own line (smoke/plugin.py places each skip there).
    skips = re.findall(r"SKIPPED \[1\] smoke/checks/security.py:\d+: .*TLS is required", out)
    assert len(skips) == 3, out


class FakeRedis(socketserver.BaseRequestHandler):
    """Answers every command with the server's `reply` (or nothing, and hangs up)."""

    def handle(self) -> None:
        reply: bytes = self.server.reply  # type: ignore[attr-defined]
        while self.request.recv(1024):
            if not reply:
                return
            self.request.sendall(reply)


@pytest.fixture
def fake_redis() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FakeRedis)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_noauth(tmp_path: Path, server: socketserver.ThreadingTCPServer, reply: bytes) -> Any:
    server.reply = reply  # type: ignore[attr-defined]
    port = server.server_address[1]
    url = f"redis://default:{REDIS_PASSWORD}@127.0.0.1:{port}/0"
    return port, *run_security(tmp_path, "unauthenticated", redis_url=url)


def test_redis_answering_without_a_password_fails(
    tmp_path: Path, fake_redis: socketserver.ThreadingTCPServer
) -> None:
    port, ret, out = run_noauth(tmp_path, fake_redis, b"+PONG\r\n")
    assert ret == 1, out
    assert f"cache: redis at 127.0.0.1:{port} runs commands without a password" in out
    assert "PING -> '+PONG'" in out and "require one (requirepass" in out
    assert not leaked(out)


def test_redis_refusing_with_noauth_passes(
    tmp_path: Path, fake_redis: socketserver.ThreadingTCPServer
) -> None:
    port, ret, out = run_noauth(tmp_path, fake_redis, b"-NOAUTH Authentication required.\r\n")
    assert ret == 0, out
    assert "1 passed" in out


def test_redis_other_errors_do_not_prove_auth(
    tmp_path: Path, fake_redis: socketserver.ThreadingTCPServer
) -> None:
    port, ret, out = run_noauth(tmp_path, fake_redis, b"-ERR unknown command\r\n")
    assert ret == 1, out
    assert f"cache: redis at 127.0.0.1:{port} runs commands without a password" in out


def test_redis_hanging_up_is_named_not_passed(
    tmp_path: Path, fake_redis: socketserver.ThreadingTCPServer
) -> None:
    port, ret, out = run_noauth(tmp_path, fake_redis, b"")
    assert ret == 1, out
    assert f"cache: redis at 127.0.0.1:{port} " in out and "1 failed" in out


def test_seed_statements_fill_every_placeholder() -> None:
    people = rls.People.new("0a1b2c3d4e5f")
    statements = rls.seed_statements(people, "0a1b2c3d4e5f")
    assert [s.split()[2] for s, _ in statements][:2] == ["auth.users", "public.creators"]
    for sql, params in statements:
        assert sql.count("%s") == len(params), sql
    seeded = {s.split()[2].removeprefix("public.") for s, _ in statements}
    assert seeded == {"auth.users", *rls.SEEDED_TABLES}


def test_students_are_distinct_people_with_a_row_in_each_private_table() -> None:
    people = rls.People.new("r")
    a, b = people.students
    assert a.user_id != b.user_id
    for table in rls.STUDENT_TABLES:
        assert a.rows[table] != b.rows[table]
        assert people.others(a, table) == [b.rows[table]]
    assert people.others(a, "videos") == [people.creator.rows["videos"]]


def test_student_findings_name_each_leak_and_each_missing_own_row() -> None:
    a = rls.People.new("r").students[0]
    seen = [
        ("chat_sessions", 1, 0, 0),  # fine
        ("calendar_events", 1, 1, 1),  # sees the other student's row
        ("video_progress", 0, 0, 0),  # cannot read their own
        ("quiz_attempts", 1, 0, 3),  # sees rows of real people
        ("videos", 0, 1, 5),  # sees the creator's draft (published videos are fine)
        ("quizzes", 0, 0, 9),
    ]
    assert rls.student_findings(a, seen) == [
        "student a reads another student's row in calendar_events",
        "student a cannot read their own row in video_progress",
        "student a reads 3 row(s) of others in quiz_attempts",
        "student a reads the creator's draft in videos",
    ]


def test_anon_findings_flag_private_rows_only() -> None:
    seen = [("students", 0, 2, 2), ("chat_messages", 0, 0, 4), ("videos", 0, 0, 7)]
    assert rls.anon_findings(seen) == [
        "anon reads 2 private row(s) of students",
        "anon reads 4 row(s) of chat_messages",
    ]
    assert rls.anon_findings([]) == []


def test_claims_are_those_postgrest_sets() -> None:
    user = rls.People.new("r").students[0].user_id
    assert json.loads(rls.claims(user)) == {"sub": user, "role": "authenticated"}
    assert rls.claims(None) == ""
