"""The smoke suite's security checks against real servers: a throwaway Postgres migrated like the
stack (RLS right, then broken on purpose) and a Redis without a password. Each bad target must
fail the check that guards it, and the RLS checks must leave no row behind, pass or fail."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from components.migrations import runner
from devtools.ports import free_port
from smoke.guide import GUIDE_TABLES
from tests.unit.smoke.helpers import SmokeRun, dead_outputs, leaked, run_smoke

if TYPE_CHECKING:
    from tests.integration.pg_fixture import PgServer

pytest_plugins = ["tests.integration.pg_fixture", "tests.integration.redis_fixture"]

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "components" / "local" / "sql" / "supabase_shim.sql"
SECURITY = ROOT / "smoke" / "checks" / "security.py"
APP_PASSWORD = secrets.token_urlsafe(18)


def app_role(admin_url: str, role: str, *, can_switch: bool = True) -> str:
    """A login role shaped like the local stack's app role (BYPASSRLS, member of the API roles,
    every table of public); its URL."""
    ident = sql.Identifier(role)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create role {} login bypassrls").format(ident))
        conn.execute(sql.SQL("alter role {} password {}").format(ident, sql.Literal(APP_PASSWORD)))
        membership = "grant {} to {}" if can_switch else "revoke {} from {}"
        api_roles = sql.SQL("anon, authenticated, service_role")
        conn.execute(sql.SQL(membership).format(api_roles, ident))
        database = conn.execute("select current_database()").fetchone()
        assert database is not None
        conn.execute(
            sql.SQL(
                "grant connect on database {db} to {r}; "
                "grant usage on schema public, extensions, auth to {r}; "
                "grant all on all tables in schema public to {r}; grant all on auth.users to {r}"
            ).format(db=sql.Identifier(database[0]), r=ident)
        )
    parts = urlsplit(admin_url)
    return f"postgresql://{role}:{APP_PASSWORD}@{parts.hostname}:{parts.port}{parts.path}"


def migrated(pg_server: PgServer, name: str, *breakage: str) -> str:
    """A fresh database with the shim and every migration, then the `breakage` statements."""
    url = pg_server.create_database(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SHIM.read_text())
    runner.apply(url, ROOT / "supabase" / "migrations")
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in breakage:
            conn.execute(statement)
    return url


def row_counts(admin_url: str) -> dict[str, int]:
    """Rows of auth.users and of every guide table but the seeded achievements catalogue."""
    tables = ["auth.users", *(f"public.{t}" for t in GUIDE_TABLES if t != "achievements")]
    with psycopg.connect(admin_url) as conn:
        return {
            t: int(conn.execute(f"select count(*) from {t}").fetchone()[0])  # type: ignore[index]
            for t in tables
        }


def run_checks(tmp_path: Path, keyword: str, *args: str, **overrides: str) -> SmokeRun:
    outputs = dead_outputs(free_port(), free_port(), free_port(), **overrides)
    path = tmp_path / f"outputs-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(outputs))
    return run_smoke(tmp_path, SECURITY, "--outputs-file", path, "-k", keyword, "-rA", *args)


def test_rls_checks_pass_on_the_migrations_and_leave_no_row(
    pg_server: PgServer, tmp_path: Path
) -> None:
    admin = migrated(pg_server, "mentora_sec_ok")
    url = app_role(admin, "mentora_sec_app")
    before = row_counts(admin)
    for extra in ((), ("--read-only",)):  # read-only: they write nothing that outlives the check
        result = run_checks(tmp_path, "rls", *extra, database_url=url)
        assert result.ret == 0, result.output
        assert "2 passed" in result.output
    assert row_counts(admin) == before == dict.fromkeys(before, 0)
    assert not leaked(result.output, (APP_PASSWORD,))


@pytest.fixture(scope="module")
def broken(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmokeRun]:
    """The RLS checks on a database where students read each other's calendars and anon reads
    every student profile."""
    admin = migrated(
        pg_server,
        "mentora_sec_broken",
        "create policy leak on public.calendar_events for select to authenticated using (true)",
        "grant select on public.students to anon",
        "create policy anon_read on public.students for select to anon using (true)",
    )
    url = app_role(admin, "mentora_sec_app")
    result = run_checks(tmp_path_factory.mktemp("broken"), "rls", database_url=url)
    yield result
    assert row_counts(admin) == dict.fromkeys(row_counts(admin), 0), "a failing check left rows"


def test_a_student_reading_another_students_rows_fails(broken: SmokeRun) -> None:
    assert broken.ret == 1
    assert "2 failed" in broken.output
    assert "database: row level security on postgresql://***@127.0.0.1:" in broken.output
    for name in ("a", "b"):
        assert f"student {name} reads another student's row in calendar_events" in broken.output
    assert "fix the policies or grants with a new file in supabase/migrations/" in broken.output


def test_anon_reading_private_rows_fails(broken: SmokeRun) -> None:
    assert "database: anon (no JWT) on postgresql://***@127.0.0.1:" in broken.output
    assert "anon reads 2 private row(s) of students" in broken.output
    assert not leaked(broken.output, (APP_PASSWORD,))


def test_a_role_that_cannot_switch_skips_with_the_reason(
    pg_server: PgServer, tmp_path: Path
) -> None:
    admin = migrated(pg_server, "mentora_sec_noswitch")
    url = app_role(admin, "mentora_sec_noswitch", can_switch=False)
    result = run_checks(tmp_path, "rls", database_url=url)
    assert result.ret == 0, result.output
    assert "2 skipped" in result.output
    assert "RLS behaviour not checked: role mentora_sec_noswitch cannot SET ROLE anon, " in (
        result.output
    )


@pytest.fixture
def hba_rejects_plain(pg_server: PgServer) -> Iterator[str]:
    """The app URL of a database whose pg_hba.conf refuses every connection without TLS (like
    Supabase with SSL enforcement); the line is removed afterwards."""
    name = "mentora_sec_tls"
    url = app_role(migrated(pg_server, name), "mentora_sec_app")
    hba = pg_server.data_dir / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text(f"hostnossl {name} all 127.0.0.1/32 reject\n{original}")
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute("select pg_reload_conf()")
    try:
        yield url
    finally:
        hba.write_text(original)
        with psycopg.connect(pg_server.url(), autocommit=True) as conn:
            conn.execute("select pg_reload_conf()")


def test_postgres_accepting_plain_connections_fails(pg_server: PgServer, tmp_path: Path) -> None:
    url = app_role(migrated(pg_server, "mentora_sec_plain"), "mentora_sec_app")
    cloud = {"target": "cloud", "storage_endpoint": "", "database_url": url + "?sslmode=require"}
    result = run_checks(tmp_path, "plain", **cloud)
    assert result.ret == 1, result.output
    assert f"database: postgres at 127.0.0.1:{pg_server.port} accepted a plain connection" in (
        result.output
    )
    assert "TLS is not enforced" in result.output
    assert not leaked(result.output, (APP_PASSWORD,))


def test_postgres_refusing_plain_connections_passes(hba_rejects_plain: str, tmp_path: Path) -> None:
    result = run_checks(
        tmp_path, "plain", target="cloud", storage_endpoint="", database_url=hba_rejects_plain
    )
    assert result.ret == 0, result.output
    assert "1 passed" in result.output


def test_redis_without_a_password_fails(redis_url: str, tmp_path: Path) -> None:
    # The fixture's server has no password; the outputs carry one, as a stack's would.
    port = urlsplit(redis_url).port
    with_password = f"redis://default:NotChecked-{uuid.uuid4().hex[:8]}@127.0.0.1:{port}/0"
    result = run_checks(tmp_path, "unauthenticated", redis_url=with_password)
    assert result.ret == 1, result.output
    assert f"cache: redis at 127.0.0.1:{port} runs commands without a password" in result.output
    assert "PING -> '+PONG'" in result.output and "GET -> '$-1'" in result.output
