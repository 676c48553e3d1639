"""Process trees and RSS sums from a fake /proc; the outputs rewrite for Toxiproxy and the
secrets it must mask."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.memory import descendants, parent_map, rss_kib, share_note, tree_rss_mb
from bench.network import rewrite, secret_values


def fake_proc(tmp_path: Path, procs: dict[int, tuple[str, int, int | None]]) -> Path:
    """pid -> (command name, parent pid, VmRSS in KiB or None for a zombie)."""
    for pid, (comm, ppid, rss) in procs.items():
        folder = tmp_path / str(pid)
        folder.mkdir()
        # Field 2 may hold spaces and parentheses (proc(5)): the parser must split after ')'.
        (folder / "stat").write_text(f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560\n")
        status = f"Name:\t{comm}\nState:\tS (sleeping)\n"
        if rss is not None:
            status += f"VmRSS:\t{rss} kB\n"
        (folder / "status").write_text(status)
    (tmp_path / "self").mkdir()  # not a pid: ignored
    return tmp_path


def test_parent_map_reads_field_four_after_the_command_name(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        {1: ("init", 0, 100), 40: ("gunicorn: master [bugsink.wsgi]", 1, 50), 41: ("a) b", 40, 9)},
    )
    assert parent_map(proc) == {1: 0, 40: 1, 41: 40}


def test_a_tree_is_the_root_and_every_descendant_not_its_siblings() -> None:
    parents = {10: 1, 11: 10, 12: 10, 13: 11, 20: 1, 21: 20}
    assert descendants(10, parents) == [10, 11, 12, 13]
    assert descendants(21, parents) == [21]
    assert descendants(99, parents) == [99]  # gone: only itself, read as 0 KiB


def test_tree_rss_sums_every_process_of_the_tree_in_mb(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        {
            100: ("postgres", 1, 20_000),
            101: ("postgres: checkpointer", 100, 5_000),
            102: ("postgres: zombie", 100, None),
            200: ("redis-server", 1, 7_000),
        },
    )
    mb, count = tree_rss_mb(100, parent_map(proc), proc)
    assert count == 3
    assert mb == pytest.approx(25_000 * 1024 / 1e6)
    assert rss_kib(102, proc) == 0 and rss_kib(999, proc) == 0


def test_share_note_names_the_new_servers_and_their_percent() -> None:
    note = share_note({"postgres": 130.0, "redis": 7.0, "jobs": 70.0, "errors": 120.0})
    assert note == "jobs + errors: 190.0 MB of 327.0 MB (58%)"
    assert share_note({}) == "jobs + errors: 0.0 MB of 0.0 MB (-)"


def test_rewrite_points_every_server_endpoint_at_its_proxy_and_keeps_the_rest() -> None:
    proxies = {5432: 41001, 6390: 41002, 8288: 41003}
    outputs = {
        "database_url": "postgresql://app:pw@127.0.0.1:5432/mentora",
        "redis_url": "redis://default:pw@localhost:6390/0",
        "env": {
            "INNGEST_BASE_URL": "http://127.0.0.1:8288",
            "SENTRY_DSN": "http://key@127.0.0.1:9999/1",  # not proxied: kept
            "LOG_LEVEL": "debug",
        },
        "list": ["127.0.0.1:5432", 5432, None],
    }
    assert rewrite(outputs, proxies) == {
        "database_url": "postgresql://app:pw@127.0.0.1:41001/mentora",
        "redis_url": "redis://default:pw@127.0.0.1:41002/0",
        "env": {
            "INNGEST_BASE_URL": "http://127.0.0.1:41003",
            "SENTRY_DSN": "http://key@127.0.0.1:9999/1",
            "LOG_LEVEL": "debug",
        },
        "list": ["127.0.0.1:41001", 5432, None],
    }
    # A longer port that merely starts with a proxied one is another port.
    assert rewrite("127.0.0.1:54320", proxies) == "127.0.0.1:54320"


def test_secret_values_finds_keys_tokens_and_url_credentials_not_plain_settings() -> None:
    outputs = {
        "database_url": "postgresql://app:db-pass@127.0.0.1:1/x",
        "app_url": "http://127.0.0.1:3000",
        "env": {
            "AWS_SECRET_ACCESS_KEY": "s3-secret",
            "SENTRY_AUTH_TOKEN": "tok",
            "SENTRY_DSN": "http://dsn-key@127.0.0.1:2/1",
            "NODE_ENV": "development",
        },
    }
    assert sorted(secret_values(outputs)) == ["db-pass", "dsn-key", "s3-secret", "tok"]
