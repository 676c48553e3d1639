"""The first migration connect is retried for a bounded time (issue 9, item 3).

Applying SSL enforcement makes Supabase restart the database ("a fast database restart",
supabase docs guides/platform/ssl-enforcement); migrations that connect at once are refused.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import psycopg
import pytest

from components.migrations import runner
from tests.unit.cloud.fake_supabase import FakeClock

URL = "postgresql://postgres.ref:s3cr3t-pw@pooler.example:5432/postgres?sslmode=require"


class FakeConnect:
    """psycopg.connect that fails with `errors` in turn, then returns a marker connection."""

    def __init__(self, *errors: str) -> None:
        self.errors, self.calls = list(errors), 0

    def __call__(self, url: str, **kwargs: Any) -> object:
        self.calls += 1
        if self.errors:
            raise psycopg.OperationalError(self.errors.pop(0))
        return "connection"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeConnect:
    connect = FakeConnect(
        'connection to server at "pooler.example" failed: Connection refused',
        "server closed the connection unexpectedly",
    )
    monkeypatch.setattr(psycopg, "connect", connect)
    return connect


def test_refused_connects_are_retried_and_logged(
    fake: FakeConnect, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        conn = runner.connect(URL, retry_deadline_s=60, sleep=clock.sleep, clock=clock)
    assert conn == "connection" and fake.calls == 3
    assert clock.sleeps == [1.0, 2.0]
    assert "connect to pooler.example:5432/postgres attempt 1 failed" in caplog.text
    assert "s3cr3t-pw" not in caplog.text


def test_the_deadline_error_names_host_port_and_deadline(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    monkeypatch.setattr(psycopg, "connect", FakeConnect(*["Connection refused"] * 100))
    with pytest.raises(runner.MigrationConnectError) as caught:
        runner.connect(URL, retry_deadline_s=30, sleep=clock.sleep, clock=clock)
    message = str(caught.value)
    assert "pooler.example:5432/postgres within 30s" in message and "attempts" in message
    assert "s3cr3t-pw" not in message and clock.now <= 30


def test_bad_credentials_are_not_retried(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    connect = FakeConnect('FATAL:  password authentication failed for user "postgres"')
    monkeypatch.setattr(psycopg, "connect", connect)
    with pytest.raises(runner.MigrationConnectError, match="password authentication failed"):
        runner.connect(URL, retry_deadline_s=60, sleep=clock.sleep, clock=clock)
    assert connect.calls == 1 and clock.sleeps == []


def test_without_a_deadline_one_attempt_is_made(fake: FakeConnect) -> None:
    with pytest.raises(runner.MigrationConnectError, match="Connection refused"):
        runner.connect(URL)
    assert fake.calls == 1


def test_apply_retries_its_first_connect(
    fake: FakeConnect, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, float] = {}

    def spy(url: str, **kwargs: Any) -> Any:
        seen["deadline"] = kwargs.get("retry_deadline_s", 0.0)
        raise runner.MigrationConnectError("stop here")

    monkeypatch.setattr(runner, "connect", spy)
    with pytest.raises(runner.MigrationConnectError, match="stop here"):
        runner.apply(URL, Path(__file__).parents[3] / "supabase" / "migrations")
    assert seen["deadline"] == runner.FIRST_CONNECT_DEADLINE_S > 0


def test_a_refused_local_port_fails_after_the_deadline_with_real_psycopg() -> None:
    with socket.socket() as sock:  # free a moment ago: nothing listens there now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://postgres:pw@127.0.0.1:{port}/postgres?sslmode=disable"
    with pytest.raises(runner.MigrationConnectError) as caught:
        runner.connect(url, retry_deadline_s=1.5)
    assert f"127.0.0.1:{port}/postgres within 2s" in str(caught.value)
    assert "(2 attempts)" in str(caught.value)
