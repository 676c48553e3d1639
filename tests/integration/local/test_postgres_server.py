"""PostgresServer's provider against a real server: create, crash, refresh, restart, delete."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from components.local import ownership, processes
from components.local.postgres_server import PostgresProvider, _Layout
from devtools.ports import free_port
from tests.integration.local.conftest import files_containing, kill_hard


def test_lifecycle_keeps_data_and_passwords_across_a_crash(state_dir: Path) -> None:
    import psycopg

    provider, port = PostgresProvider(), free_port()
    props = {
        "port": port,
        "data_dir": str(state_dir / "postgres"),
        "database": "mentora",
        "app_user": "mentora_app",
    }
    started = time.monotonic()
    outs = provider.create(props).outs
    print(f"postgres create took {time.monotonic() - started:.2f}s")
    assert outs is not None and outs["running"] is True
    assert outs["app_url"].startswith("postgresql://mentora_app:") and outs["app_url"].endswith(
        f"@127.0.0.1:{port}/mentora"
    )
    for secret in (outs["admin_password"], outs["app_password"]):
        assert files_containing(state_dir, secret) == []

    with psycopg.connect(outs["admin_url"], autocommit=True, connect_timeout=5) as admin:
        admin.execute("create extension if not exists vector with schema extensions")
        admin.execute("create table public.notes (id serial primary key, body text)")
    with psycopg.connect(outs["app_url"], autocommit=True, connect_timeout=5) as app:
        role = app.execute(
            "select rolsuper, rolbypassrls from pg_roles where rolname = current_user"
        ).fetchone()
        assert role == (False, True)
        member_of = {
            row[0]
            for row in app.execute(
                "select b.rolname from pg_auth_members m join pg_roles b on m.roleid = b.oid "
                "join pg_roles u on m.member = u.oid where u.rolname = current_user"
            )
        }
        assert {"anon", "authenticated", "service_role"} <= member_of
        app.execute("insert into notes (body) values ('survives a crash')")
        assert app.execute("select auth.uid()").fetchone() == (None,)
        assert app.execute("select '[1,2]'::extensions.vector <-> '[1,3]'").fetchone() == (1.0,)

    pid = processes.read_pid(_Layout(provider.settings(props)).pid_file)
    kill_hard(pid)
    read = provider.read(f"postgres-{port}", outs)
    assert read.outs is not None and read.outs["running"] is False
    diff = provider.diff(read.id or "", read.outs, props)
    assert (diff.changes, diff.replaces) == (True, [])

    started = time.monotonic()
    updated = provider.update(read.id or "", read.outs, props).outs
    print(f"postgres restart took {time.monotonic() - started:.2f}s")
    assert updated == outs  # same passwords, same URLs
    with psycopg.connect(updated["app_url"], connect_timeout=5) as app:
        assert app.execute("select body from notes").fetchall() == [("survives a crash",)]
    healthy = provider.read(f"postgres-{port}", updated).outs
    assert healthy is not None and healthy["running"] is True

    new_pid = processes.read_pid(_Layout(provider.settings(props)).pid_file)
    provider.delete(f"postgres-{port}", updated)
    assert not ownership.pid_alive(new_pid)
    assert not processes.port_open(port)
    assert not (state_dir / "postgres").exists()
    assert os.listdir(state_dir) == []


def test_a_failing_shim_is_named_and_frees_the_port(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from components.local import postgres_server
    from components.local.errors import LocalServerError

    shim = state_dir / "broken_shim.sql"
    shim.write_text("create role anon nologin;\nselect no_such_function();\n")
    monkeypatch.setattr(postgres_server, "SHIM_SQL", shim)
    port = free_port()
    props = {
        "port": port,
        "data_dir": str(state_dir / "pg"),
        "database": "mentora",
        "app_user": "mentora_app",
    }
    with pytest.raises(LocalServerError, match=f"postgres: {shim} failed: .*no_such_function"):
        PostgresProvider().create(props)
    assert not processes.port_open(port)
    # The next create takes the folder over (it carries the providers' marker).
    monkeypatch.undo()
    outs = PostgresProvider().create(props).outs
    assert outs is not None and outs["running"] is True
    PostgresProvider().delete("", outs)
