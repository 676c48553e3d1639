"""PostgresDatabase's provider against a real cluster (a base stack's server): two review
stacks' databases side by side, each login refused everywhere but its own database, the base's
included; a refresh sees a dropped database as gone; delete leaves no database or login."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.local.postgres_database import (
    PostgresDatabaseProvider,
    present,
    with_database,
)
from components.local.postgres_server import PostgresProvider
from devtools.ports import free_port


@pytest.fixture
def base(state_dir: Path) -> Iterator[dict[str, Any]]:
    """A base stack's Postgres server (database `mentora`, login `mentora_app`)."""
    provider, port = PostgresProvider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "postgres"), "database": "mentora"}
    outs = provider.create({**props, "app_user": "mentora_app"}).outs
    assert outs is not None
    yield {**outs, "cluster_url": with_database(outs["admin_url"], "postgres")}
    provider.delete(f"postgres-{port}", outs)


def refused(url: str) -> str:
    import psycopg

    with pytest.raises(psycopg.OperationalError) as error:
        psycopg.connect(url, connect_timeout=5).close()
    return str(error.value)


def test_tenants_reach_only_their_own_database(base: dict[str, Any]) -> None:
    import psycopg

    provider = PostgresDatabaseProvider()
    made = {}
    for pr in (1, 2):
        props = {"admin_url": base["cluster_url"], "database": f"mentora_pr_{pr}"}
        result = provider.create({**props, "app_user": f"mentora_app_pr_{pr}"})
        made[pr] = result.outs
    one, two = made[1], made[2]
    with psycopg.connect(one["database_admin_url"], connect_timeout=5) as admin:
        admin.execute("create table public.notes (id int)")  # as a migration would
    with psycopg.connect(one["app_url"], connect_timeout=5) as app:
        role = app.execute(
            "select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user"
        ).fetchone()
        assert role == (False, False, False)
        app.execute("insert into notes values (1)")  # the app's grants (APP_ROLE_SQL)
    # Each login against the other's database, the base's and the maintenance database.
    no_connect = "does not have CONNECT privilege"
    assert no_connect in refused(with_database(one["app_url"], "mentora_pr_2"))
    assert no_connect in refused(with_database(two["app_url"], "mentora_pr_1"))
    assert no_connect in refused(with_database(one["app_url"], "mentora"))
    assert no_connect in refused(with_database(one["app_url"], "postgres"))
    assert no_connect in refused(with_database(base["app_url"], "mentora_pr_1"))
    with psycopg.connect(base["app_url"], connect_timeout=5) as app:  # the base still works
        assert app.execute("select current_database()").fetchone() == ("mentora",)
    # The shim ran in the tenant's database: Supabase's roles and schemas are there.
    with psycopg.connect(one["database_admin_url"], connect_timeout=5) as admin:
        assert admin.execute("select auth.uid()").fetchone() == (None,)

    # A creation that runs again (a retried up) converges: same names, a new password.
    again = provider.create({k: one[k] for k in ("admin_url", "database", "app_user")}).outs
    assert again is not None and again["app_url"] != one["app_url"]
    assert refused(one["app_url"])  # the old password no longer opens it
    with psycopg.connect(again["app_url"], connect_timeout=5) as app:
        assert app.execute("select count(*) from notes").fetchone() == (1,)  # data kept

    # The base's server moved (its address changed, its data with it): an update, not a
    # replace (the old address would answer no delete), converging at the new address.
    moved = {**again, "admin_url": base["cluster_url"].replace("127.0.0.1", "localhost")}
    diff = provider.diff("pr-1", again, moved)
    assert diff.changes and not diff.replaces
    at_new = provider.update("pr-1", again, moved).outs
    assert at_new is not None and at_new["cluster"].startswith("localhost:")
    with psycopg.connect(at_new["app_url"], connect_timeout=5) as app:
        assert app.execute("select count(*) from notes").fetchone() == (1,)  # data kept
    again = at_new

    # Dropped out of band: a refresh reports it gone, so the next up makes it again.
    provider.delete("pr-2", two)
    assert present(base["cluster_url"], "mentora_pr_2", "mentora_app_pr_2") == []
    assert provider.read("pr-2", two).id == ""
    assert provider.read("pr-1", again).id == "pr-1"
    provider.delete("pr-1", again)
    assert present(base["cluster_url"], "mentora_pr_1", "mentora_app_pr_1") == []


def test_review_stacks_made_at_once_all_come_up(base: dict[str, Any]) -> None:
    """Their creates touch the same catalog rows (CONNECT on every database, the shim's
    `alter role anon ...`): at once, PostgreSQL answers "tuple concurrently updated" unless
    they take turns."""
    from concurrent.futures import ThreadPoolExecutor

    provider = PostgresDatabaseProvider()

    def make(pr: int) -> str:
        props = {"admin_url": base["cluster_url"], "database": f"mentora_pr_{pr}"}
        outs = provider.create({**props, "app_user": f"mentora_app_pr_{pr}"}).outs
        return str(outs["database"])

    for _ in range(3):
        with ThreadPoolExecutor(max_workers=6) as pool:
            made = sorted(pool.map(make, range(1, 7)))
        assert made == [f"mentora_pr_{pr}" for pr in range(1, 7)]
