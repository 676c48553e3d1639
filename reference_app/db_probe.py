"""The health endpoint's Postgres probe: a few reused connections, never one per request.

A burst of health requests used to open a connection each and exhausted `max_connections` for
every client of the database. Now at most `size` probe connections exist; a request that cannot
get one within the probe deadline is answered unhealthy ("timed out") instead of queueing.

A connection unused for `max_idle_s` is closed (`reap`, every `REAP_EVERY_S`), as a pool's
`max_idle` would: an idle app holds no server process in Postgres (~16 MB each; a review
stack's app sits idle in its base's cluster most of its life, docs/review.md).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

CONNECT_TIMEOUT_S = 2
MAX_IDLE_S = 30.0
REAP_EVERY_S = 5.0


class DatabaseProbe:
    """Owns up to `size` reusable connections for `select 1` probes."""

    def __init__(self, url: str, size: int = 4, max_idle_s: float = MAX_IDLE_S) -> None:
        self._url = url
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[Any, float]] = []  # (connection, when it was last used)
        self._max_idle_s = max_idle_s

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
            conn = self._idle.pop()[0] if reused else await self._connect()
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
            self._idle.append((conn, time.monotonic()))

    @property
    def open_connections(self) -> int:
        """Idle connections held now."""
        return len(self._idle)

    async def reap(self, now: float | None = None) -> int:
        """Close the connections unused for `max_idle_s`; how many were closed."""
        now = time.monotonic() if now is None else now
        stale = [c for c, used in self._idle if now - used >= self._max_idle_s]
        self._idle = [(c, used) for c, used in self._idle if now - used < self._max_idle_s]
        for conn in stale:
            await conn.close()
        return len(stale)

    async def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            await self._idle.pop()[0].close()
