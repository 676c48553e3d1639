"""When each server of a cold `up` starts listening, seen from outside: a thread polls the
stack's ports every 10 ms while `pulumi up` runs. The gaps say what the engine costs before the
first server starts and after the last one answers.

>>> with PortWatcher({"redis": 6390}) as watcher:  # doctest: +SKIP
...     project.up()
>>> watcher.first_open  # doctest: +SKIP
{'redis': 1.52}
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from bench.project import port_open

POLL_S = 0.01


class PortWatcher:
    """Records, for each named port, the seconds from `__enter__` until it first accepts."""

    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports
        self.first_open: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="port-watcher", daemon=True)
        self._start = 0.0

    def _watch(self) -> None:
        while not self._stop.is_set() and len(self.first_open) < len(self.ports):
            for name, port in self.ports.items():
                if name not in self.first_open and port_open(port):
                    self.first_open[name] = time.monotonic() - self._start
            self._stop.wait(POLL_S)

    def __enter__(self) -> PortWatcher:
        self._start = time.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def phases(first_open: dict[str, float], total: float) -> dict[str, float]:
    """The cold up cut at the moments servers started listening.

    >>> cut = phases({"redis": 1.5, "postgres": 2.5, "storage": 3.0, "app": 4.0}, 5.25)
    >>> list(cut.values())
    [1.5, 2.5, 1.25]
    """
    if not first_open or "app" not in first_open:
        return {}
    first, app = min(first_open.values()), first_open["app"]
    return {
        "before the first server listens": first,
        "first server -> app listens": app - first,
        "app listens -> up exits": total - app,
    }
