"""Migration discovery, naming, checksums and planning (no database), plus the provider's diff."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from components.migrations import runner
from components.migrations.resource import MigrationsProvider
from smoke import guide

REPO_MIGRATIONS = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
GUIDE_TABLES = set(guide.GUIDE_TABLES)


def write(folder: Path, name: str, sql: str = "select 1;\n") -> Path:
    path = folder / name
    path.write_text(sql)
    return path


def test_discover_sorts_by_numeric_version_and_ignores_other_files(tmp_path: Path) -> None:
    write(tmp_path, "20251020100100_second.sql")
    write(tmp_path, "900_short_version_first.sql")
    write(tmp_path, "20251020100000_first.sql")
    write(tmp_path, "README.md", "not a migration")

    found = runner.discover(tmp_path)

    assert [m.version for m in found] == ["900", "20251020100000", "20251020100100"]
    assert [m.name for m in found] == ["short_version_first", "first", "second"]


@pytest.mark.parametrize(
    "bad", ["create_tables.sql", "20251020100000-dash.sql", "v1_init.sql", "_init.sql"]
)
def test_badly_named_sql_file_is_rejected_naming_it(tmp_path: Path, bad: str) -> None:
    write(tmp_path, "20251020100000_ok.sql")
    write(tmp_path, bad)

    with pytest.raises(runner.MigrationNameError, match=re.escape(bad)):
        runner.discover(tmp_path)


def test_two_files_with_one_version_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "20251020100000_a.sql")
    write(tmp_path, "20251020100000_b.sql")

    with pytest.raises(runner.MigrationNameError, match="20251020100000_b.sql"):
        runner.discover(tmp_path)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(runner.MigrationNameError, match="does not exist"):
        runner.discover(tmp_path / "nope")


def test_checksum_is_sha256_of_the_file_bytes_and_follows_edits(tmp_path: Path) -> None:
    path = write(tmp_path, "1_a.sql", "create table t (id int);\r\n")
    before = runner.checksums(tmp_path)
    assert before == {"1": hashlib.sha256(path.read_bytes()).hexdigest()}

    path.write_text("create table t (id bigint);\n")
    assert runner.checksums(tmp_path)["1"] != before["1"]


def _ledger(migrations: list[runner.Migration]) -> dict[str, runner.LedgerRow]:
    return {m.version: runner.LedgerRow(m.name, m.checksum) for m in migrations}


def test_plan_lists_pending_files_after_the_applied_ones(tmp_path: Path) -> None:
    for n in (1, 2, 3):
        write(tmp_path, f"{n}_m{n}.sql")
    migrations = runner.discover(tmp_path)

    plan = runner.plan_against(migrations, _ledger(migrations[:1]))

    assert plan.applied == ("1",)
    assert [m.path.name for m in plan.pending] == ["2_m2.sql", "3_m3.sql"]


def test_edited_applied_file_raises_checksum_error_naming_it(tmp_path: Path) -> None:
    write(tmp_path, "1_first.sql")
    write(tmp_path, "2_second.sql")
    ledger = _ledger(runner.discover(tmp_path))
    write(tmp_path, "2_second.sql", "select 2;\n")

    with pytest.raises(runner.MigrationChecksumError, match="2_second.sql was edited"):
        runner.plan_against(runner.discover(tmp_path), ledger)


def test_applied_version_without_file_raises_missing_error(tmp_path: Path) -> None:
    write(tmp_path, "1_first.sql")
    ledger = _ledger(runner.discover(tmp_path))
    ledger["2"] = runner.LedgerRow("second", "0" * 64)

    with pytest.raises(runner.MigrationMissingError, match="2_second.sql"):
        runner.plan_against(runner.discover(tmp_path), ledger)


def test_versions_applied_by_supabase_cli_have_no_checksum_and_are_trusted(
    tmp_path: Path,
) -> None:
    write(tmp_path, "1_first.sql")
    plan = runner.plan_against(runner.discover(tmp_path), {"1": runner.LedgerRow("first", None)})
    assert plan.applied == ("1",) and plan.pending == ()


def test_redact_keeps_host_port_database_only() -> None:
    url = "postgresql://admin:s3cr3t-pw@127.0.0.1:54322/mentora?sslmode=disable"
    assert runner.redact(url) == "127.0.0.1:54322/mentora"


def test_unreachable_database_error_names_target_but_not_password() -> None:
    url = "postgresql://admin:s3cr3t-pw@127.0.0.1:9/mentora"
    with pytest.raises(runner.MigrationConnectError) as info:
        runner.applied_versions(url)
    assert "127.0.0.1:9/mentora" in str(info.value)
    assert "s3cr3t-pw" not in str(info.value)


def test_repository_migrations_are_well_formed() -> None:
    migrations = runner.discover(REPO_MIGRATIONS)
    assert len(migrations) >= 6
    assert all(re.fullmatch(r"2025102010\d{4}", m.version) for m in migrations)
    sql = "\n".join(m.sql for m in migrations).lower()
    created = set(re.findall(r"create table public\.(\w+)", sql))
    assert created == GUIDE_TABLES
    rls = set(re.findall(r"alter table public\.(\w+) enable row level security", sql))
    assert rls == GUIDE_TABLES
    assert "using hnsw (embedding extensions.vector_cosine_ops)" in sql
    assert "on conflict (code) do nothing" in sql
    assert not re.search(r"password\s*(=|')|service_role_key|eyJhbGci", sql)


# --- MigrationsProvider.diff: what makes `pulumi preview` show an update ---------------------

OLD = {
    "admin_url": "postgresql://a:b@127.0.0.1:1/db",
    "migrations_dir": "/m",
    "checksums": {"1": "aa", "2": "bb"},
    "applied": ["1", "2"],
}


def test_diff_is_empty_when_nothing_changed() -> None:
    news = {k: v for k, v in OLD.items() if k != "applied"}
    assert MigrationsProvider().diff("id", OLD, news).changes is False


@pytest.mark.parametrize(
    "change",
    [
        {"checksums": {"1": "aa", "2": "bb", "3": "cc"}},  # a file was added
        {"checksums": {"1": "aa", "2": "XX"}},  # a file was edited (the runner will refuse)
        {"admin_url": "postgresql://a:new@127.0.0.1:1/db"},  # the database was recreated
    ],
)
def test_diff_asks_for_update_when_inputs_change(change: dict[str, object]) -> None:
    news = {**{k: v for k, v in OLD.items() if k != "applied"}, **change}
    result = MigrationsProvider().diff("id", OLD, news)
    assert result.changes is True and result.replaces == []


def test_diff_asks_for_update_when_refresh_found_versions_missing() -> None:
    refreshed = {**OLD, "applied": ["1"]}
    news = {k: v for k, v in OLD.items() if k != "applied"}
    assert MigrationsProvider().diff("id", refreshed, news).changes is True


def test_delete_is_a_no_op() -> None:
    assert MigrationsProvider().delete("id", OLD) is None


def test_reading_the_ledger_of_a_frozen_server_gives_up_within_its_timeout() -> None:
    """A SIGSTOPped Postgres accepts TCP and never answers: refresh (the migrations' read) waited
    out the 10 s connect timeout, and so did every heal of a hung database."""
    import socket
    import time

    with socket.socket() as frozen:
        frozen.bind(("127.0.0.1", 0))
        frozen.listen()  # the kernel accepts, nobody answers
        url = f"postgresql://admin:pw@127.0.0.1:{frozen.getsockname()[1]}/mentora"
        started = time.monotonic()
        with pytest.raises(runner.MigrationConnectError, match="within 1s"):
            runner.applied_versions(url, timeout_s=1)
        assert time.monotonic() - started < 3
