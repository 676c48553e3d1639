"""A bounded, paced load on the app for the length of an operation (a rotation): `rate`
requests per second spread over paths that touch the database and cache (`/api/health`) and
the bucket (`/api/storage`), each answer recorded. Shared by tests/ and bench/."""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from typing import Any

PATHS = ("/api/health", "/api/storage")
TIMEOUT_S = 10.0
KEEPALIVE_S = 2.0


@dataclass
class LoadResult:
    """Every answer of one load run: status (0 = no answer) per path, and how long it ran."""

    statuses: dict[str, collections.Counter[int]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values())

    @property
    def failed(self) -> int:
        return sum(n for c in self.statuses.values() for code, n in c.items() if code != 200)

    @property
    def rate(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        parts = [
            f"{path}: " + ", ".join(f"{n} x {_name(code)}" for code, n in sorted(c.items()) if n)
            for path, c in self.statuses.items()
        ]
        return f"{self.total} requests in {self.seconds:.1f}s ({self.rate:.0f}/s); " + "; ".join(
            parts
        )


def _name(code: int) -> str:
    return {0: "no answer", -1: "timeout", -2: "unfinished at the end"}.get(code, str(code))


class Load:
    """Runs the load in `workers` processes of their own (a loaded machine schedules each; one
    starved event loop fell to 24 requests/s of 60) between `start()` and `stop()`.

    >>> load = Load("http://127.0.0.1:3100", rate=60).start()  # doctest: +SKIP
    >>> result = load.stop()  # doctest: +SKIP
    """

    def __init__(
        self,
        base_url: str,
        rate: float = 60.0,
        paths: tuple[str, ...] = PATHS,
        workers: int = 4,
    ) -> None:
        import multiprocessing

        self.base_url, self.rate, self.paths = base_url, rate, paths
        context = multiprocessing.get_context("fork")
        self._stop = context.Event()
        self._results: Any = context.Queue()
        self._procs = [
            context.Process(
                target=_worker,
                args=(base_url, rate / workers, paths, n, self._stop, self._results),
                daemon=True,
            )
            for n in range(workers)
        ]

    def start(self) -> Load:
        for proc in self._procs:
            proc.start()
        return self

    def stop(self, timeout_s: float = TIMEOUT_S + 10) -> LoadResult:
        self._stop.set()
        result = LoadResult({path: collections.Counter() for path in self.paths})
        for _ in self._procs:
            statuses, seconds = self._results.get(timeout=timeout_s)
            for path, counts in statuses.items():
                result.statuses[path].update(counts)
            result.seconds = max(result.seconds, seconds)
        for proc in self._procs:
            proc.join(timeout_s)
        return result


def _worker(
    base_url: str, rate: float, paths: tuple[str, ...], offset: int, stop: Any, results: Any
) -> None:
    statuses: dict[str, collections.Counter[int]] = {p: collections.Counter() for p in paths}
    seconds = asyncio.run(_run(base_url, rate, paths, offset, stop, statuses))
    results.put(({p: dict(c) for p, c in statuses.items()}, seconds))


async def _run(
    base_url: str,
    rate: float,
    paths: tuple[str, ...],
    offset: int,
    stop: Any,
    statuses: dict[str, collections.Counter[int]],
) -> float:
    import httpx

    started = time.monotonic()
    pending: set[asyncio.Task[None]] = set()
    seconds = 0.0
    # A kept-alive connection idle as long as the server's keep-alive (uvicorn: 5 s, httpx's
    # default expiry too) can be closed by the server just as a request is sent on it: a
    # ReadError no rotation caused. Expire idle connections well before the server does.
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT_S, limits=limits) as client:

        async def one(path: str) -> None:
            try:
                code = (await client.get(path)).status_code
            except httpx.TimeoutException:
                code = -1
            except httpx.HTTPError as exc:
                code = 0
                print(f"load: {path}: {type(exc).__name__}: {exc}", flush=True)
            statuses[path][code] += 1

        sent = 0
        while not stop.is_set():
            due = started + sent / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            task = asyncio.create_task(one(paths[(sent + offset) % len(paths)]))
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += 1
        seconds = time.monotonic() - started
        if pending:
            await asyncio.wait(pending, timeout=TIMEOUT_S)
        for task in pending:  # no answer within the deadline: a failed request
            task.cancel()
        unanswered = sent - sum(sum(c.values()) for c in statuses.values())
        statuses[paths[0]][-2] += max(0, unanswered)
    return seconds
