"""The shim, the migrations and the runner against a throwaway Postgres 18 with pgvector."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from components.migrations import runner
from components.migrations.resource import MigrationsProvider
from tests.unit.test_migration_runner import GUIDE_TABLES, REPO_MIGRATIONS

if TYPE_CHECKING:
    from tests.integration.pg_fixture import PgServer

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.integration.pg_fixture"]

SHIM = Path(__file__).resolve().parents[2] / "components" / "local" / "sql" / "supabase_shim.sql"
IDS = {k: str(uuid.uuid4()) for k in ("creator", "other_creator", "alice", "bob")}
DIM = 1536


def fresh_schema(pg_server: PgServer, name: str) -> str:
    """A new database with the shim (run twice: it must be idempotent) and every migration."""
    url = pg_server.create_database(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SHIM.read_text())
        conn.execute(SHIM.read_text())
    runner.apply(url, REPO_MIGRATIONS)
    return url


def vec(hot: int) -> str:
    return "[" + ",".join("1" if i == hot else "0" for i in range(DIM)) + "]"


def seed(conn: psycopg.Connection) -> dict[str, str]:
    """Two creators, two students (alice, bob) of the first, content and activity; returns ids."""
    ids: dict[str, str] = {}
    for key, user_id in IDS.items():
        conn.execute("insert into auth.users (id, email) values (%s, %s)", (user_id, f"{key}@t.io"))

    def one(sql: str, *args: object) -> str:
        row = conn.execute(sql + " returning id", args).fetchone()
        assert row is not None
        return str(row[0])

    ids["c"] = one("insert into creators (user_id, display_name) values (%s, 'C')", IDS["creator"])
    ids["c2"] = one(
        "insert into creators (user_id, display_name) values (%s, 'C2')", IDS["other_creator"]
    )
    for who in ("alice", "bob"):
        ids[who] = one(
            "insert into students (user_id, creator_id, display_name) values (%s, %s, %s)",
            IDS[who],
            ids["c"],
            who,
        )
    video = "insert into videos (creator_id, title, storage_key, status, published) "
    ids["pub"] = one(video + "values (%s, 'pub', 'k/pub', 'ready', true)", ids["c"])
    ids["draft"] = one(video + "values (%s, 'draft', 'k/draft', 'uploaded', false)", ids["c"])
    ids["other"] = one(video + "values (%s, 'other', 'k/other', 'uploaded', false)", ids["c2"])
    for n, video_key in enumerate(("pub", "pub", "draft")):
        conn.execute(
            "insert into video_chunks (video_id, chunk_index, content, start_seconds,"
            " end_seconds, embedding) values (%s, %s, %s, 0, 1, %s::extensions.vector)",
            (ids[video_key], n, f"chunk {n}", vec(n)),
        )
    conn.execute(
        "insert into quizzes (creator_id, title, published) values (%s, 'q', true)", (ids["c"],)
    )
    conn.execute("insert into quizzes (creator_id, title) values (%s, 'q draft')", (ids["c"],))
    for who in ("alice", "bob"):
        conn.execute(
            "insert into video_progress (student_id, video_id) values (%s, %s)",
            (ids[who], ids["pub"]),
        )
        conn.execute(
            "insert into chat_sessions (student_id, title) values (%s, %s)", (ids[who], who)
        )
        conn.execute(
            "insert into calendar_events (student_id, title, starts_at, ends_at)"
            " values (%s, 'study', now(), now() + interval '1 hour')",
            (ids[who],),
        )
    return ids


@pytest.fixture(scope="module")
def schema(pg_server: PgServer) -> Iterator[tuple[str, dict[str, str]]]:
    """URL of the migrated database, with seed data committed, and the seeded ids."""
    url = fresh_schema(pg_server, "mentora_migrations_it")
    with psycopg.connect(url, autocommit=True) as conn:
        ids = seed(conn)
    yield url, ids


def as_user(conn: psycopg.Connection, role: str, sub: str | None = None) -> None:
    """Switch the current transaction to an API role with the given JWT subject (Supabase style)."""
    conn.execute(f"set local role {role}")
    if sub is not None:
        conn.execute(
            "select set_config('request.jwt.claims', %s, true)", (json.dumps({"sub": sub}),)
        )


def count(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(f"select count(*) from public.{table}").fetchone()
    return int(row[0]) if row else -1


def test_all_migrations_recorded_in_both_ledgers(schema: tuple[str, dict[str, str]]) -> None:
    url, _ = schema
    files = runner.discover(REPO_MIGRATIONS)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select m.version, m.name, cardinality(m.statements), c.checksum"
            " from supabase_migrations.schema_migrations m"
            " join supabase_migrations.mentora_checksums c using (version) order by 1"
        ).fetchall()
    assert [(v, n, s > 0, c) for v, n, s, c in rows] == [
        (m.version, m.name, True, m.checksum) for m in files
    ]


def test_guide_tables_exist_with_rls_enabled(schema: tuple[str, dict[str, str]]) -> None:
    with psycopg.connect(schema[0]) as conn:
        rows = conn.execute(
            "select relname, relrowsecurity from pg_class"
            " where relnamespace = 'public'::regnamespace and relkind = 'r'"
        ).fetchall()
    assert {name for name, _ in rows} == GUIDE_TABLES
    assert [name for name, rls in rows if not rls] == []


def test_every_foreign_key_leads_an_index(schema: tuple[str, dict[str, str]]) -> None:
    with psycopg.connect(schema[0]) as conn:
        unindexed = conn.execute(
            """
            select c.conrelid::regclass::text, c.conname from pg_constraint c
            where c.contype = 'f' and c.connamespace = 'public'::regnamespace
              and not exists (
                select 1 from pg_index i where i.indrelid = c.conrelid
                  and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)
            """
        ).fetchall()
    assert unindexed == []


def test_cosine_search_uses_the_hnsw_index(schema: tuple[str, dict[str, str]]) -> None:
    query = "select content from video_chunks order by embedding <=> %s::vector limit 1"
    with psycopg.connect(schema[0]) as conn:
        nearest = conn.execute(query, (vec(1),)).fetchone()
        conn.execute("set local enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute("explain " + query, (vec(1),)).fetchall())
        conn.rollback()
    assert nearest == ("chunk 1",)
    assert "video_chunks_embedding_hnsw_idx" in plan


def test_achievements_seeded_and_updated_at_maintained(schema: tuple[str, dict[str, str]]) -> None:
    with psycopg.connect(schema[0]) as conn:
        assert count(conn, "achievements") >= 8
        row = conn.execute(
            "update achievements set xp_reward = xp_reward where code = 'first_video'"
            " returning updated_at > created_at"
        ).fetchone()
        conn.rollback()
    assert row == (True,)


def test_rerun_applies_nothing(schema: tuple[str, dict[str, str]]) -> None:
    result = runner.apply(schema[0], REPO_MIGRATIONS)
    assert result.applied == ()
    assert result.skipped == len(runner.discover(REPO_MIGRATIONS))


def test_edited_or_missing_applied_file_is_refused(
    schema: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    folder = Path(shutil.copytree(REPO_MIGRATIONS, tmp_path / "m"))
    edited = sorted(folder.glob("*_indexes.sql"))[0]
    edited.write_text(edited.read_text() + "\n-- tweak\n")
    with pytest.raises(runner.MigrationChecksumError, match=edited.name):
        runner.apply(schema[0], folder)
    edited.unlink()
    with pytest.raises(runner.MigrationMissingError, match=edited.name):
        runner.plan(schema[0], folder)


def snapshot(url: str) -> tuple[set[str], dict[str, runner.LedgerRow]]:
    """Every relation of schema public, and the ledger."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select relname from pg_class where relnamespace = 'public'::regnamespace"
        )
        return {str(r[0]) for r in rows}, runner.read_ledger(conn)


def test_broken_file_rolls_back_alone(pg_server: PgServer, tmp_path: Path) -> None:
    url = fresh_schema(pg_server, "mentora_migrations_broken")
    relations, ledger = snapshot(url)
    folder = Path(shutil.copytree(REPO_MIGRATIONS, tmp_path / "m"))
    good = folder / "20251021000000_good.sql"
    good.write_text("create table public.good (id int);\n")
    (folder / "20251021000001_broken.sql").write_text(
        "create table public.half_done (id int);\n\nselect 1 / 0;\n"
    )
    with pytest.raises(runner.MigrationFailedError) as info:
        runner.apply(url, folder)
    message = str(info.value)
    assert "20251021000001_broken.sql failed at line 3" in message
    assert "division by zero" in message and pg_server.password not in message
    # The good file before it committed on its own; the broken one left no trace at all.
    good_row = runner.LedgerRow("good", hashlib.sha256(good.read_bytes()).hexdigest())
    assert snapshot(url) == (relations | {"good"}, {**ledger, "20251021000000": good_row})


def test_provider_create_and_read_report_the_ledger(pg_server: PgServer) -> None:
    url = pg_server.create_database("mentora_provider_it")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SHIM.read_text())
    provider = MigrationsProvider()
    props = {
        "admin_url": url,
        "migrations_dir": str(REPO_MIGRATIONS),
        "checksums": runner.checksums(REPO_MIGRATIONS),
    }
    created = provider.create(props)
    versions = [m.version for m in runner.discover(REPO_MIGRATIONS)]
    assert created.outs["applied"] == versions
    assert provider.read(created.id, created.outs).outs["applied"] == versions


# --- RLS: Supabase's pattern, inside transactions that are rolled back -------------------------


def test_student_reads_and_writes_only_their_own_rows(schema: tuple[str, dict[str, str]]) -> None:
    url, ids = schema
    with psycopg.connect(url) as conn:
        as_user(conn, "authenticated", IDS["alice"])
        assert conn.execute("select id from students").fetchall() == [(uuid.UUID(ids["alice"]),)]
        for table in ("video_progress", "chat_sessions", "calendar_events"):
            assert count(conn, table) == 1, table
        assert [r[0] for r in conn.execute("select title from videos")] == ["pub"]
        assert count(conn, "video_chunks") == 2 and count(conn, "quizzes") == 1
        assert count(conn, "creators") == 1 and count(conn, "achievements") >= 8
        moved = conn.execute(
            "update video_progress set watched_seconds = 5 where student_id = %s", (ids["bob"],)
        )
        assert moved.rowcount == 0
        own = conn.execute(
            "update video_progress set watched_seconds = 5 returning updated_at > created_at"
        )
        assert own.fetchall() == [(True,)]  # own row; the updated_at trigger ran as the student
        assert conn.execute("update students set display_name = 'Al'").rowcount == 1
        forged = "insert into video_progress (student_id, video_id) values (%s, %s)"
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"),
            conn.transaction(),
        ):  # a savepoint: the outer transaction stays usable
            conn.execute(forged, (ids["bob"], ids["draft"]))
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("update students set xp = 9999")
        conn.rollback()


def test_creator_sees_own_drafts_and_own_students(schema: tuple[str, dict[str, str]]) -> None:
    with psycopg.connect(schema[0]) as conn:
        as_user(conn, "authenticated", IDS["creator"])
        assert sorted(r[0] for r in conn.execute("select title from videos")) == ["draft", "pub"]
        assert count(conn, "students") == 2 and count(conn, "video_chunks") == 3
        assert count(conn, "video_progress") == 0
        conn.rollback()


def test_anon_and_claimless_users_get_nothing_private(schema: tuple[str, dict[str, str]]) -> None:
    with psycopg.connect(schema[0]) as conn:
        as_user(conn, "anon", IDS["alice"])
        for table in sorted(GUIDE_TABLES):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(f"select 1 from public.{table} limit 1")
        conn.rollback()
        as_user(conn, "authenticated")
        assert conn.execute("select auth.uid()").fetchone() == (None,)
        private = GUIDE_TABLES - {"achievements", "videos", "video_chunks", "quizzes"}
        assert {t: count(conn, t) for t in private} == dict.fromkeys(private, 0)
        conn.rollback()
        as_user(conn, "service_role")
        assert count(conn, "students") == 2
        conn.rollback()


def test_a_long_migration_says_how_far_it_got(
    pg_server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 19: a 100,000-statement migration took 86 s with no progress shown. Every
    `progress_every_s` the runner says how far the running file got (on stderr, which `pulumi
    up` shows for its dynamic providers); here every statement is past the interval."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20261204000000_many.sql").write_text("select 1;\n" * 50)
    url = pg_server.create_database("mentora_progress_it")
    runner.apply(url, folder, progress_every_s=0)
    lines = [line for line in capsys.readouterr().err.splitlines() if "20261204000000" in line]
    assert lines[0] == "migrations: 20261204000000_many.sql: 1 of 50 statements (0s)", lines
    assert lines[-1].startswith("migrations: 20261204000000_many.sql: 49 of 50 statements")
