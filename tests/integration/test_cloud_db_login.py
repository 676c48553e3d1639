"""The cloud Postgres login rotation (rotation/cloud_db_login.py) against a real PostgreSQL 18
set up as a Supabase project is: the bootstrap superuser is `supabase_admin`; `postgres` is a
plain login with CREATEROLE and BYPASSRLS, owning the app's table (RLS on), with ADMIN OPTION
on anon, authenticated and service_role, and none on itself. The pooler's `<role>.<ref>` user
names are mapped to roles here (the one thing only a real Supabase pooler can answer).

Proves the SQL a non-superuser may run: the group role and the alternating logins are made, the
app's sessions run as `mentora_app` with the rights smoke uses (rows read and written through
RLS, the migration ledger and auth.users read, nothing created in `public`), and a retired
login or password is refused by the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from components.cloud.supabase_db import login_url
from gate.exitcodes import Exit
from recovery.scratch import Scratch, scratch_postgres
from rotation import cloud_db_login, cloud_driver
from rotation.journal import INTERRUPT_ENV, Journal
from rotation.state import StackState, secret, unwrap
from tests.unit.rotation.cloud_fakes import Backend

REF = "abcdefghijklmnopqrst"
PARENT = "urn:pulumi:dev::mentora::mentora:infra:SupabaseDatabase$pulumi-python:dynamic:Resource"


@pytest.fixture
def project() -> Iterator[Scratch]:
    with scratch_postgres(superuser="supabase_admin") as server:
        with server.connect() as admin:
            for role in ("anon", "authenticated", "service_role"):
                admin.execute(f"create role {role} nologin")
            admin.execute("create role postgres login createrole bypassrls password 'pw-0'")
            admin.execute("grant anon, authenticated, service_role to postgres with admin option")
            admin.execute("grant create on schema public to postgres")
            admin.execute("grant create on database postgres to postgres")
            admin.execute("create schema extensions; create schema auth")
            admin.execute("grant usage on schema extensions, auth to postgres with grant option")
            admin.execute("create table auth.users (id uuid primary key, email text)")
            admin.execute("grant all on auth.users to service_role")
        with psycopg.connect(url(server, "postgres", "pw-0"), autocommit=True) as owner:
            owner.execute("create table public.videos (id int primary key, title text)")
            owner.execute("alter table public.videos enable row level security")
            owner.execute("create schema supabase_migrations")
            owner.execute("create table supabase_migrations.schema_migrations (version text)")
            owner.execute("insert into supabase_migrations.schema_migrations values ('1')")
        yield server


def url(server: Scratch, role: str, password: str) -> str:
    return f"postgresql://{role}:{password}@127.0.0.1:{server.port}/postgres"


def direct(pooler_url: str) -> str:
    """What the pooler does with `<role>.<ref>`: log in as `<role>`."""
    parts = urlsplit(pooler_url)
    netloc = parts.netloc.replace(f".{REF}:", ":", 1)
    return urlunsplit(parts._replace(netloc=netloc, query=""))


class World:
    """The stack's state, its project's Postgres, and the production app's URL."""

    def __init__(self, server: Scratch, tmp_path: Path) -> None:
        self.server, self.root, self.said = server, tmp_path, []
        self.admin = "pw-0"
        pooler = self.pooler(self.admin)
        self.backend = Backend("", "", document={"deployment": {"resources": [
            {"urn": f"{PARENT}::database-project", "type": "pulumi-python:dynamic:Resource",
             "outputs": {"ref": REF, "database_url": secret(pooler),
                         "migrations_url": secret(pooler)}},
            {"urn": f"{PARENT}::database-app-login", "type": "pulumi-python:dynamic:Resource",
             "outputs": {"name": "postgres", "secret": secret(self.admin)}},
        ]}})  # fmt: skip
        self.production = direct(pooler)

    def pooler(self, password: str) -> str:
        return f"postgresql://postgres.{REF}:{password}@127.0.0.1:{self.server.port}/postgres"

    @property
    def document(self) -> dict[str, Any]:
        return self.backend.document

    def state(self, stack: str, root: Path) -> StackState:
        return self.backend.state(stack, root)

    def app_url(self) -> str:
        project, login = (unwrap(r["outputs"]) for r in self.document["deployment"]["resources"])
        pooler = login_url(project["database_url"], login["name"], REF, login["secret"])
        return direct(pooler)

    def gate(self) -> Exit:
        """Smoke as the app would (a row written and read back through RLS), then promote."""
        try:
            with psycopg.connect(self.app_url(), autocommit=True) as app:
                app.execute("select version from supabase_migrations.schema_migrations")
                app.execute("select count(*) from auth.users")
                n = app.execute("select coalesce(max(id), 0) + 1 from videos").fetchone()[0]
                app.execute("insert into videos values (%s, 'smoke')", (n,))
                if app.execute("select count(*) from videos where id = %s", (n,)).fetchone()[0]:
                    self.production = self.app_url()
                    return Exit.GREEN
        except psycopg.Error:
            pass
        return Exit.FAILED

    def reset_admin(self, state: StackState) -> None:
        """The replace gate: a new `postgres` password in the project and in the state."""
        self.admin = f"pw-{len(self.said) + 1}"
        with self.server.connect() as admin:
            admin.execute(f"alter role postgres password '{self.admin}'")
        project = self.document["deployment"]["resources"][0]["outputs"]
        project["database_url"] = project["migrations_url"] = secret(self.pooler(self.admin))

    def kind(self) -> cloud_db_login.SupabaseLogin:
        def logs_in(pooler_url: str) -> bool:
            try:
                with psycopg.connect(direct(pooler_url), connect_timeout=5):
                    return True
            except psycopg.OperationalError as exc:
                if "password authentication failed" in str(exc):
                    return False
                raise

        return cloud_db_login.SupabaseLogin(
            connect=lambda u: psycopg.connect(direct(u), autocommit=True, connect_timeout=5),
            logs_in=logs_in,
            reset_admin=self.reset_admin,
            settle_s=2,
            sleep=lambda _s: None,
        )

    def rotate(self) -> Exit:
        run = cloud_driver.Run("dev", self.root, self.gate, self.said.append, self.state, drain_s=0)
        code = cloud_driver.rotate(run, self.kind())
        with psycopg.connect(self.production, connect_timeout=5):
            pass  # the production app's login works at every ending
        return code


def refused(world: World, role: str, password: str) -> bool:
    try:
        with psycopg.connect(url(world.server, role, password), connect_timeout=5):
            return False
    except psycopg.OperationalError as exc:
        return "password authentication failed" in str(exc)


def test_the_first_rotation_gives_the_app_its_own_login_with_the_rights_it_had(
    project: Scratch, tmp_path: Path
) -> None:
    world = World(project, tmp_path)
    assert world.rotate() == Exit.GREEN, world.said
    assert "mentora_app_a:" in world.production
    with psycopg.connect(world.production, autocommit=True) as app:
        assert app.execute("select current_user").fetchone()[0] == "mentora_app"
        assert app.execute("select count(*) from videos").fetchone()[0] == 1  # its smoke row
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("create table public.intruder (id int)")
    assert refused(world, "postgres", "pw-0")  # the app knew it: reset
    assert "refuses the old login postgres" in world.said[-1]


def test_the_next_rotations_alternate_and_the_old_login_is_refused(
    project: Scratch, tmp_path: Path
) -> None:
    world = World(project, tmp_path)
    assert world.rotate() == Exit.GREEN
    first = world.production
    assert world.rotate() == Exit.GREEN, world.said
    assert "mentora_app_b:" in world.production
    assert refused(world, "mentora_app_a", urlsplit(first).password or "")
    assert world.rotate() == Exit.GREEN  # back to a, made to log in again
    assert "mentora_app_a:" in world.production


def test_a_sigint_after_the_login_was_made_is_undone_by_the_next_rotate(
    project: Scratch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(project, tmp_path)
    assert world.rotate() == Exit.GREEN
    monkeypatch.setenv(INTERRUPT_ENV, "created")
    with pytest.raises(KeyboardInterrupt):
        world.rotate()
    monkeypatch.delenv(INTERRUPT_ENV)
    assert world.rotate() == Exit.GREEN, world.said
    assert "mentora_app_b:" in world.production
    assert not Journal("dev", tmp_path).path.exists()


def test_a_restore_to_before_a_rotation_is_repaired_by_the_next_deploy(
    project: Scratch, tmp_path: Path
) -> None:
    """A point-in-time restore rewinds pg_authid: the login the state names (`mentora_app_b`)
    did not exist yet, the one before it (`mentora_app_a`) logs in again with its old password.
    The deploy after it puts the state's login back and disables the other."""
    world = World(project, tmp_path)
    assert world.rotate() == Exit.GREEN and world.rotate() == Exit.GREEN
    production, before = world.production, urlsplit(world.production).password or ""
    with project.connect() as admin:  # what the restore left
        admin.execute("alter role mentora_app_b nologin password null")
        admin.execute("alter role mentora_app_a login password 'from-before'")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(production, connect_timeout=5).close()
    state = world.state("dev", tmp_path).load()
    assert world.kind().repair(state, world.said.append) == ""
    assert "set again" in world.said[-1]
    with psycopg.connect(production, connect_timeout=5):
        pass  # the app's login works again, with the state's password
    assert refused(world, "mentora_app_a", "from-before") and before


def test_a_repair_without_postgres_names_the_fix(project: Scratch, tmp_path: Path) -> None:
    world = World(project, tmp_path)
    assert world.rotate() == Exit.GREEN
    with project.connect() as admin:  # the restore rewound postgres' reset and the login
        admin.execute("alter role postgres password 'pw-from-before'")
        admin.execute("alter role mentora_app_a nologin password null")
    problem = world.kind().repair(world.state("dev", tmp_path).load(), world.said.append)
    assert "fresh postgres password" in problem and "--replace" in problem
    assert "pw-" not in problem
