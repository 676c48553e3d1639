"""The health endpoint's Postgres probe: a few reused connections, never one per request.

A burst of health requests used to open a connection each and exhausted `max_connections` for
every client of the database. Now at most `size` probe connections exist; a request that cannot
get one within the probe deadline is answered unhealthy ("timed out") instead of queueing.
"""

from __future__ import annotations

import asyncio
from typing import Any

CONNECT_TIMEOUT_S = 2


class DatabaseProbe:
    """Owns up to `size` reusable connections for `select 1` probes."""

    def __init__(self, url: str, size: int = 4) -> None:
        self._url = url
        self._slots = asyncio.Semaphore(size)
        self._idle: list[Any] = []

    async def _connect(self) -> Any:
        import psycopg

        return await psycopg.AsyncConnection.connect(
            self._url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True
        )

    async def ping(self) -> None:
        """`select 1` on a pooled connection (a fresh one if the pooled one broke)."""
        import psycopg

        async with self._slots:
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else await self._connect()
            try:
                await conn.execute("select 1")
            except psycopg.OperationalError:
                await conn.close()
                if not reused:
                    raise
                conn = await self._connect()  # the server restarted since: one fresh try
                await conn.execute("select 1")
            except BaseException:
                await conn.close()
                raise
            self._idle.append(conn)

    async def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            await self._idle.pop().close()
