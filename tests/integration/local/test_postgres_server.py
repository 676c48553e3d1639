"""PostgresServer's provider against a real server: create, crash, refresh, restart, delete."""

from __future__ import annotations

import os
import pwd
import time
from pathlib import Path

import pytest

from components.local import ownership, processes
from components.local.postgres_layout import PostgresLayout
from components.local.postgres_server import PostgresProvider
from components.local.unix_user import service_user_name
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
        # Lean: no idle I/O workers, no logical replication launcher (LEAN_OPTIONS).
        assert admin.execute("show io_method").fetchone() == ("sync",)
        kinds = {r[0] for r in admin.execute("select backend_type from pg_stat_activity")}
        assert not kinds & {"io worker", "logical replication launcher"}, kinds
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

    pid = processes.read_pid(PostgresLayout(provider.settings(props)).pid_file)
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

    new_pid = processes.read_pid(PostgresLayout(provider.settings(props)).pid_file)
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


def _gids(pid: int) -> set[int]:
    """Every group id a process holds: real, effective, saved, filesystem and supplementary."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {line.split(":")[0]: line.split(":")[1].split() for line in status}
    return {int(g) for g in fields["Gid"] + fields["Groups"]}


def _read_as_superuser(url: str, path: Path) -> str:
    """What `pg_read_file` answers for `path` as the server's superuser: the text or the error."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
        try:
            return str(admin.execute("select pg_read_file(%s)", (str(path),)).fetchone())
        except psycopg.Error as exc:
            return f"refused: {exc}"


@pytest.mark.skipif(os.geteuid() != 0, reason="as another user Postgres runs as that user")
def test_postgres_holds_no_root_group_and_reads_no_other_stack(state_dir: Path) -> None:
    secret = state_dir / "root-only.txt"  # root:root 0640: readable by group root only
    secret.write_text("root's data")
    os.chown(secret, 0, 0)
    secret.chmod(0o640)
    provider = PostgresProvider()
    stacks = []
    for name in ("one", "two"):
        props = {
            "port": free_port(),
            "data_dir": str(state_dir / name / "postgres"),
            "database": "mentora",
            "app_user": "mentora_app",
        }
        stacks.append((props, provider.create(props).outs))
    try:
        (one, one_outs), (two, _) = stacks
        pid = processes.read_pid(PostgresLayout(provider.settings(one)).pid_file)
        assert pid is not None
        assert 0 not in _gids(pid)
        assert "Permission denied" in _read_as_superuser(one_outs["admin_url"], secret)
        other = PostgresLayout(provider.settings(two)).pgdata / "PG_VERSION"  # another stack's file
        assert "Permission denied" in _read_as_superuser(one_outs["admin_url"], other)
        own = PostgresLayout(provider.settings(one)).pgdata / "PG_VERSION"  # the check itself works
        assert _read_as_superuser(one_outs["admin_url"], own).startswith("('18")
        owners = {PostgresLayout(provider.settings(p)).pgdata.stat().st_uid for p, _ in stacks}
        assert len(owners) == 2, "each stack's data dir has its own OS user"
    finally:
        for props, outs in stacks:
            provider.delete(f"postgres-{props['port']}", {**props, **outs})
    for props, _ in stacks:  # each stack's user goes with its data
        with pytest.raises(KeyError):
            pwd.getpwnam(service_user_name(Path(props["data_dir"])))


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can hand a data dir to another user")
def test_a_data_dir_of_an_older_layout_is_handed_to_the_stacks_own_user(state_dir: Path) -> None:
    import psycopg

    provider, port = PostgresProvider(), free_port()
    props = {
        "port": port,
        "data_dir": str(state_dir / "postgres"),
        "database": "mentora",
        "app_user": "mentora_app",
    }
    outs = provider.create(props).outs
    assert outs is not None
    layout = PostgresLayout(provider.settings(props))
    kill_hard(processes.read_pid(layout.pid_file))
    for path in [layout.root, *layout.root.rglob("*")]:  # as the shared user owned it before
        os.chown(path, 65534, 65534, follow_symlinks=False)
    try:
        updated = provider.update(f"postgres-{port}", {**outs, "running": False}, props).outs
        assert updated is not None
        with psycopg.connect(updated["admin_url"], autocommit=True, connect_timeout=5) as admin:
            assert admin.execute("select 1").fetchone() == (1,)
        own = pwd.getpwnam(service_user_name(layout.root))
        assert layout.pgdata.stat().st_uid == own.pw_uid
    finally:
        provider.delete(f"postgres-{port}", {**props, **outs})
