"""What the local providers report and repair of the settings they manage, against real
servers without Pulumi (issue 23, item 2): each setting is changed out of band first, `read`
must name it in `observed`, `diff` must see a change, `update` must put it back in place (the
same server process, its data kept). The stack-level path (`drift`, `up`) is
tests/integration/test_drift.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.local import postgres_login, processes
from components.local.postgres_server import PostgresProvider
from components.local.redis_server import RedisProvider
from devtools.ports import free_port


def test_redis_extra_acl_user_second_password_and_persistence_off_are_named_and_repaired(
    state_dir: Path,
) -> None:
    import redis

    provider, port = RedisProvider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "redis")}
    outs = provider.create(props).outs
    assert outs["observed"] == outs["managed"]
    pid = processes.read_pid(state_dir / "redis" / "redis.pid")
    client = redis.Redis.from_url(outs["url"], socket_timeout=5)
    client.set("kept", "1")
    client.acl_setuser("intruder", enabled=True, passwords=["+intruder-pw-123"], commands=["+@all"])
    client.acl_setuser("default", enabled=True, passwords=["+a-second-password-456"])
    client.config_set("appendonly", "no")
    client.config_set("save", "")
    client.config_set("maxmemory-policy", "noeviction")
    try:
        read = provider.read(f"redis-{port}", outs).outs
        changed = {k: v for k, v in read["observed"].items() if v != read["managed"][k]}
        assert changed == {
            "acl users": "default,intruder",
            "auth": "the stack's + 1 other password(s)",
            "appendonly": "no",
            "save": "",
            "maxmemory-policy": "noeviction",
        }
        assert "intruder-pw-123" not in str(read) and "a-second-password-456" not in str(read)
        assert provider.diff(f"redis-{port}", read, props).changes is True
        updated = provider.update(f"redis-{port}", read, props).outs
        assert updated["observed"] == updated["managed"]
        assert processes.read_pid(state_dir / "redis" / "redis.pid") == pid  # not restarted
        assert client.get("kept") == b"1"
        assert client.acl_users() == ["default"]
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        again = provider.read(f"redis-{port}", updated).outs
        assert provider.diff(f"redis-{port}", again, props).changes is False
    finally:
        client.close()
        provider.delete(f"redis-{port}", outs)


def test_the_app_roles_extra_grants_and_attributes_are_named_and_revoked_in_place(
    state_dir: Path,
) -> None:
    import psycopg

    provider, port = PostgresProvider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "pg")}
    outs = provider.create(props).outs
    assert outs["observed"] == outs["managed"]
    postmaster = processes.read_pid(state_dir / "pg" / "pgdata" / "postmaster.pid")
    try:
        with psycopg.connect(outs["admin_url"], autocommit=True) as conn:
            conn.execute("create table kept (v int); insert into kept values (1)")
            conn.execute("alter role mentora_app createrole createdb nobypassrls")
            conn.execute("grant mentora_admin to mentora_app")
            conn.execute("grant create on schema public to mentora_app")
        read = provider.read(f"postgres-{port}", outs).outs
        changed = {k: v for k, v in read["observed"].items() if v != read["managed"][k]}
        assert changed == {
            "app role createrole": "yes",
            "app role createdb": "yes",
            "app role bypassrls": "no",
            "app role member of": "anon,authenticated,mentora_admin,service_role",
            "app role creates in schema public": "yes",
            # inherited from the superuser role it was made a member of
            "app role database privileges": "CREATE,CONNECT,TEMPORARY",
        }
        updated = provider.update(f"postgres-{port}", read, props).outs
        assert updated["observed"] == updated["managed"]
        assert processes.read_pid(state_dir / "pg" / "pgdata" / "postmaster.pid") == postmaster
        with psycopg.connect(outs["admin_url"]) as conn:
            assert conn.execute("select v from kept").fetchall() == [(1,)]
    finally:
        provider.delete(f"postgres-{port}", outs)


def test_a_rotated_login_role_is_managed_too(state_dir: Path) -> None:
    """After `mentora-infra rotate database` the app logs in as `mentora_app_a`, a member of
    the app role: SUPERUSER or an extra membership given to that login is drift as well (it
    was invisible when only the app role was read), and is stripped in place."""
    import psycopg

    provider, port = PostgresProvider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "pg")}
    outs = provider.create(props).outs
    try:
        with psycopg.connect(outs["admin_url"], autocommit=True) as conn:
            postgres_login.repair(conn, "mentora_app_a", "mentora_app", "x-rotated-1")
        # What rotation saves in the state.
        rotated = {**outs, "app_login": "mentora_app_a", "app_password": "x-rotated-1"}
        read = provider.read(f"postgres-{port}", rotated).outs
        assert read["managed"]["app login role member of"] == "mentora_app"
        assert read["observed"] == read["managed"]
        with psycopg.connect(outs["admin_url"], autocommit=True) as conn:
            conn.execute("alter role mentora_app_a superuser")
            conn.execute("grant mentora_admin to mentora_app_a")
        read = provider.read(f"postgres-{port}", rotated).outs
        changed = {k: v for k, v in read["observed"].items() if v != read["managed"][k]}
        assert changed == {
            "app login role superuser": "yes",
            "app login role member of": "mentora_admin,mentora_app",
        }
        updated = provider.update(f"postgres-{port}", read, props).outs
        assert updated["observed"] == updated["managed"]
        with psycopg.connect(outs["admin_url"]) as conn:
            row = conn.execute(
                "select rolsuper from pg_roles where rolname = 'mentora_app_a'"
            ).fetchone()
            assert row == (False,)
    finally:
        provider.delete(f"postgres-{port}", outs)


def test_a_database_restored_to_before_a_rotation_gets_the_states_login_back(
    state_dir: Path,
) -> None:
    """`rotate database`, then `restore --to` a time before it: the restored catalog has the
    revoked login back (`mentora_app` with its old password) and not the one the state names,
    so the app could not log in and the gate after the restore was red (seen 2026-12-05). The
    next `up` (a stopped server: restart) must put the state's login back, and a password
    changed out of band on a running server is drift repaired in place."""
    import psycopg

    provider, port = PostgresProvider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "pg")}
    outs = provider.create(props).outs
    old_url = outs["app_url"]
    try:
        with psycopg.connect(outs["admin_url"], autocommit=True) as conn:
            postgres_login.repair(conn, "mentora_app_a", "mentora_app", "x-rotated-1")
        rotated = provider.read(
            "pg", {**outs, "app_login": "mentora_app_a", "app_password": "x-rotated-1"}
        ).outs
        assert rotated["observed"] == rotated["managed"]
        with psycopg.connect(outs["admin_url"], autocommit=True) as conn:  # the restore
            conn.execute("drop role mentora_app_a")
            conn.execute(f"alter role mentora_app login password '{outs['app_password']}'")
        read = provider.read("pg", rotated).outs
        changed = {k: v for k, v in read["observed"].items() if v != read["managed"][k]}
        assert changed["app login"].startswith("refused: ")
        assert "x-rotated-1" not in str(read["observed"])
        assert changed["other app logins"] == "mentora_app"
        provider.stop(provider.settings(read))  # the restore leaves the server stopped
        stopped = provider.read("pg", read).outs
        news = {**props, "database": outs["database"], "app_user": outs["app_user"]}
        assert provider.diff("pg", stopped, news).changes is True
        updated = provider.update("pg", stopped, props).outs
        assert updated["observed"] == updated["managed"], updated["observed"]
        assert postgres_login.logs_in(port, "mentora_app_a", "x-rotated-1", "mentora") == (
            postgres_login.LOGS_IN
        )
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(old_url, connect_timeout=5).close()

        postmaster = processes.read_pid(state_dir / "pg" / "pgdata" / "postmaster.pid")
        with psycopg.connect(outs["admin_url"], autocommit=True) as conn:
            conn.execute("alter role mentora_app_a password 'changed-out-of-band'")
        read = provider.read("pg", updated).outs
        assert read["observed"]["app login"].startswith("refused: ")
        repaired = provider.update("pg", read, props).outs
        assert repaired["observed"] == repaired["managed"]
        assert processes.read_pid(state_dir / "pg" / "pgdata" / "postmaster.pid") == postmaster
    finally:
        provider.delete(f"postgres-{port}", outs)


def test_a_password_set_on_a_login_never_reaches_the_servers_log_in_clear(
    state_dir: Path,
) -> None:
    """`CREATE/ALTER ROLE ... PASSWORD` goes to the server as a SCRAM verifier: a statement the
    server logs (`log_statement`, or any failing statement at the default
    `log_min_error_statement = error`) must not carry the password (hard rule: no secret in a
    log)."""
    import psycopg

    provider, port = PostgresProvider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "pg")}
    outs = provider.create(props).outs
    secret = "x-never-logged-" + outs["app_password"][:8]
    try:
        with psycopg.connect(outs["admin_url"], autocommit=True) as conn:
            conn.execute("alter system set log_statement = 'all'")
            conn.execute("select pg_reload_conf()")
        with psycopg.connect(outs["admin_url"], autocommit=True) as conn:
            postgres_login.repair(conn, "mentora_app_a", "mentora_app", secret)
            postgres_login.set_login(conn, "mentora_app", "mentora_app", secret)
        assert postgres_login.logs_in(port, "mentora_app_a", secret, "mentora") == (
            postgres_login.LOGS_IN
        )
        log = (state_dir / "pg" / "postgres.log").read_text()
        assert "alter role" in log.lower()  # the statements were logged...
        assert secret not in log  # ...without the password
        assert outs["app_password"] not in log  # nor the one set at create
    finally:
        provider.delete(f"postgres-{port}", outs)
