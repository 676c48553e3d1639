"""`/api/health` under a burst (issue 19): 300 requests at once on loopback, each bounded by
20 s; every answer's status is counted and the p99 latency reported. A 503 caused by the app's
own pools (before: 174 of 300, `MaxConnectionsError` from the Redis pool) names its cause."""

from __future__ import annotations

import asyncio
import collections
import time

from bench.model import Measurement, Report
from bench.project import BenchProject
from components.local.processes import HOST

BURST = 300
TIMEOUT_S = 20.0


async def _burst(url: str) -> list[tuple[int, float, str]]:
    import httpx

    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(limits=limits, timeout=TIMEOUT_S) as client:

        async def one() -> tuple[int, float, str]:
            start = time.monotonic()
            try:
                response = await client.get(url)
            except httpx.HTTPError as exc:
                return 0, time.monotonic() - start, type(exc).__name__
            return response.status_code, time.monotonic() - start, response.text[:300]

        return await asyncio.gather(*(one() for _ in range(BURST)))


def health_burst(report: Report, project: BenchProject) -> None:
    """One burst against the throwaway stack's app: p99 as the row, the statuses as its note."""
    answers = asyncio.run(_burst(f"http://{HOST}:{project.port('app')}/api/health"))
    latencies = sorted(seconds for _, seconds, _ in answers)
    codes = collections.Counter(code for code, _, _ in answers)
    pools = sum(1 for code, _, body in answers if code == 503 and "MaxConnections" in body)
    row = report.add(
        Measurement("health_burst_p99", f"/api/health p99, {BURST} requests at once", [])
    )
    row.samples.append(latencies[int(len(latencies) * 0.99) - 1])
    statuses = ", ".join(f"{count} x {code or 'no answer'}" for code, count in codes.items())
    row.note = (
        f"{statuses}; 503 from the app's own pools: {pools}; p50 {latencies[BURST // 2]:.2f} s"
    )
