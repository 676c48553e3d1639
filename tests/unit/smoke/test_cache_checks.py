"""The cache checks against a real, password-protected redis-server (skipped without one), and
against a server that accepts connections but never answers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.local.processes import wait_for_port
from tests.unit.smoke.helpers import (
    SMOKE_DIR,
    dead_outputs,
    free_port,
    leaked,
    run_smoke,
    silent_port,
)

DEFAULT_PW, LIMITED_PW = "RealRedisPw-4f2e9a", "LimitedRedisPw-77c1"


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A throwaway redis-server: `default` needs a password; user `limited` may not INCR."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed (scripts/bootstrap.sh installs it)")
    port, workdir = free_port(), tmp_path_factory.mktemp("redis")
    config = (
        f'port {port}\nbind 127.0.0.1\nsave ""\ndir {workdir}\nrequirepass {DEFAULT_PW}\n'
        f"user limited on >{LIMITED_PW} ~* &* +@all -incr\n"
    )
    proc = subprocess.Popen(
        [binary, "-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    assert proc.stdin is not None
    proc.stdin.write(config)
    proc.stdin.close()
    try:
        wait_for_port("redis", port, deadline_s=5)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def smoke_keys(port: int) -> list[bytes]:
    import redis

    with redis.Redis(port=port, password=DEFAULT_PW) as client:
        return list(client.scan_iter(match="smoke:*"))


def run_cache_checks(tmp_path: Path, redis_url: str, *args: str) -> tuple[int, str]:
    outputs = dead_outputs(free_port(), free_port(), free_port(), redis_url=redis_url)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    result = run_smoke(tmp_path, SMOKE_DIR / "checks" / "cache.py", "--outputs-file", path, *args)
    return result.ret, result.output


def test_all_cache_checks_pass_and_leave_no_key(redis_port: int, tmp_path: Path) -> None:
    url = f"redis://default:{DEFAULT_PW}@127.0.0.1:{redis_port}/0"
    ret, out = run_cache_checks(tmp_path, url)
    assert ret == 0, out
    assert "SMOKE: all 6 checks passed" in out
    assert smoke_keys(redis_port) == []
    assert not leaked(out, (DEFAULT_PW,))


def test_keys_are_cleaned_up_when_a_check_fails(redis_port: int, tmp_path: Path) -> None:
    url = f"redis://limited:{LIMITED_PW}@127.0.0.1:{redis_port}/0"
    ret, out = run_cache_checks(tmp_path, url)
    assert ret == 1
    assert "FAILED" in out and "test_incr" in out and "NoPermissionError" in out
    assert "SMOKE: FAILED (services: cache)" in out
    assert smoke_keys(redis_port) == []  # set/get, setex, cache-aside keys all deleted
    assert not leaked(out, (LIMITED_PW,))


def test_wrong_password_is_named(redis_port: int, tmp_path: Path) -> None:
    ret, out = run_cache_checks(tmp_path, f"redis://default:WrongPw-0000@127.0.0.1:{redis_port}/0")
    assert ret == 1
    assert f"cache: redis at 127.0.0.1:{redis_port} rejected the credentials" in out
    assert not leaked(out, ("WrongPw-0000",))


def test_a_silent_server_fails_after_one_timeout_not_ten(tmp_path: Path) -> None:
    # Accepts connections (the kernel does) but never answers: every command times out.
    with silent_port() as port:
        ret, out = run_cache_checks(
            tmp_path, f"redis://default:pw-123456@127.0.0.1:{port}/0", "--check-timeout", "0.5"
        )
    assert ret == 1
    assert f"cache: redis at 127.0.0.1:{port} timed out" in out
    # One 0.5 s attempt; redis-py's default 10 retries would take >5 s. The checks' own time,
    # as smoke reports it: the interpreter's start is no part of it (4.7 s in all under load).
    took = float(re.search(r"smoke: checks took ([0-9.]+) s", out)[1])  # type: ignore[index]
    assert took < 2.5, f"{took:.1f}s"


@pytest.mark.parametrize(
    ("error", "phrase"),
    [
        ("Connection closed by server.", "dropped the connection"),
        ("Error 111 connecting to 127.0.0.1:6390. Connection refused.", "refused connection"),
    ],
)
def test_redis_gone_after_the_clients_setup_is_named_not_a_traceback(
    error: str, phrase: str
) -> None:
    """CI (fresh clone, 2026-12-05): Redis killed after a watch round's setup had pinged it; the
    check's own call raised redis-py's ConnectionError, which reached the watch's log as
    `ConnectionError: Traceback (most recent call last):`."""
    import redis

    from smoke.checks.cache import Cache, test_ping
    from smoke.checks.common import Recorder
    from smoke.failures import CheckFailed

    class Gone:
        def ping(self) -> bool:
            raise redis.ConnectionError(error)

    url = "redis://default:pw-123456@127.0.0.1:6390/0"
    cache = Cache(Gone(), url, "smoke:r:")
    with pytest.raises(CheckFailed) as failed:
        test_ping(cache, Recorder("cache", "test_ping"))
    assert str(failed.value).startswith(f"cache: redis at 127.0.0.1:6390 {phrase} (")
    assert "pw-123456" not in str(failed.value)
