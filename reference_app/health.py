"""Health probes of the app's dependencies, each with a deadline and a measured latency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Probe = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class ServiceHealth:
    """One dependency's state as `/api/health` reports it."""

    healthy: bool
    latency: int
    """Milliseconds the probe took (until the deadline when it timed out)."""
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"healthy": self.healthy, "latency": self.latency}
        if self.error:
            body["error"] = self.error
        return body


async def probe(check: Probe, timeout_s: float) -> ServiceHealth:
    """Run `check` under a deadline; any exception or timeout means unhealthy.

    The error is the exception's class name only: driver messages can carry connection URLs.
    """
    start = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout_s)
    except TimeoutError:
        return ServiceHealth(False, _ms(start), f"timed out after {timeout_s:g}s")
    except Exception as exc:  # noqa: BLE001 - every failure is a health answer, not a crash
        return ServiceHealth(False, _ms(start), type(exc).__name__)
    return ServiceHealth(True, _ms(start))


def overall(services: dict[str, ServiceHealth]) -> tuple[str, int]:
    """`("healthy", 200)` when every service is healthy, else `("degraded", 503)`."""
    if all(s.healthy for s in services.values()):
        return "healthy", 200
    return "degraded", 503


def _ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


class SharedProbe:
    """One probe of a service in flight at a time: health requests arriving while it runs share
    its answer instead of each taking a connection. A burst of 300 requests then costs one
    Redis PING and one `select 1`, and no request waits for a pooled connection.

    >>> import asyncio
    >>> calls = []
    >>> async def ping(): calls.append(1); await asyncio.sleep(0.01)
    >>> async def burst():
    ...     shared = SharedProbe(ping, 1.0)
    ...     return await asyncio.gather(*(shared() for _ in range(50)))
    >>> answers = asyncio.run(burst())
    >>> (len(calls), all(a.healthy for a in answers))
    (1, True)
    """

    def __init__(self, check: Probe, timeout_s: float) -> None:
        self._check, self._timeout_s = check, timeout_s
        self._running: asyncio.Task[ServiceHealth] | None = None

    async def __call__(self) -> ServiceHealth:
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(probe(self._check, self._timeout_s))
        # A caller that goes away (its request cancelled) must not cancel the others' probe.
        return await asyncio.shield(self._running)
