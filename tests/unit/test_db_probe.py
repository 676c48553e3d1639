"""reference_app/db_probe.py: probe connections are reused, and closed once idle for
`max_idle_s`, so an idle app holds no server process in Postgres."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from reference_app.db_probe import DatabaseProbe


class FakeConnection:
    """Answers `select 1`; records whether it was closed."""

    opened = 0

    def __init__(self) -> None:
        FakeConnection.opened += 1
        self.closed = False

    async def execute(self, _sql: str) -> None:
        assert not self.closed

    async def close(self) -> None:
        self.closed = True


def test_an_idle_connection_is_closed_after_max_idle_and_a_busy_one_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[FakeConnection] = []

    async def connect(_self: Any) -> FakeConnection:
        made.append(FakeConnection())
        return made[-1]

    monkeypatch.setattr(DatabaseProbe, "_connect", connect)  # our own method: no server here

    async def scenario() -> None:
        probe = DatabaseProbe("postgresql://unused", max_idle_s=30)
        await probe.ping()
        await probe.ping()
        assert len(made) == 1 and probe.open_connections == 1  # reused
        now = time.monotonic()
        assert await probe.reap(now + 29) == 0 and not made[0].closed  # still fresh
        assert await probe.reap(now + 31) == 1 and made[0].closed
        assert probe.open_connections == 0
        await probe.ping()  # the next probe connects again
        assert len(made) == 2 and probe.open_connections == 1

    asyncio.run(scenario())
