"""The smoke checks, one module per service, and how a check is declared.

A check is a plain function (usable outside any test runner) decorated with `@check`; what it
needs is named by its parameters: `outputs` (the stack's outputs contract), `timeout_s` (per
network call), `run_id`, `read_only`, `check` (its `Recorder`: timings and facts), and the
values of its service's clients (`@client` generator functions, opened once before the
service's checks and closed after them, even when a check fails or the run is interrupted). A
check raises `smoke.failures.CheckFailed` / `CheckSkipped`, or fails a plain `assert`.

>>> @client
... def cache(outputs, timeout_s):  # doctest: +SKIP
...     conn = connect(outputs.redis_url, timeout_s)
...     yield conn
...     conn.close()
>>> @check(writes=True)
... def test_set_get(cache, check):  # doctest: +SKIP
...     with check.timed("redis"):
...         assert cache.set("k", "v")
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# The order services start in: each after the services it depends on, so a dependency found
# down makes its dependents fail at once instead of waiting for it again.
SERVICES = (
    "database",
    "cache",
    "storage",
    "security",
    "app",
    "jobs",
    "errors",
    "backups",
    "data_api",
    "upstash_rest",
)
# A service's checks may wait until other services opened their clients (`Service.after`).
# None does: waiting for the cache's client before the app's checks cost a hung Redis one
# more timeout (measured: 3.55 s -> 5.52 s to detect it). The app, the job run and the test
# error rely on the outage registry instead (smoke/outages.py): they fail at once, naming the
# dependency, when a check of the database or cache found it down, and polling checks stop
# as soon as one does (`watching`).
AFTER: dict[str, tuple[str, ...]] = {}
COMMON = ("outputs", "timeout_s", "run_id", "read_only", "check")
_CHECK = "__smoke_check__"
_CLIENT = "__smoke_client__"


def check(*, writes: bool = False, deadline_s: float | None = None) -> Callable[[F], F]:
    """Declare a check; `writes`: it writes data (left out by --read-only); `deadline_s`: its
    own hang ceiling (default: the run's)."""

    def mark(func: F) -> F:
        setattr(func, _CHECK, (writes, deadline_s))
        # Not a pytest test function when pytest imports the module itself (a path given on
        # the command line): smoke/items.py collects it as a check instead.
        func.__test__ = False  # type: ignore[attr-defined]
        return func

    return mark


def client(func: F) -> F:
    """Declare a service client: a function (or generator function, whose code after `yield`
    is its teardown) taking the common values and earlier clients by name."""
    setattr(func, _CLIENT, True)
    return func


@dataclass(frozen=True)
class CheckSpec:
    """A declared check: its service, name, function and what it needs."""

    service: str
    name: str
    func: Callable[..., Any]
    writes: bool = False
    deadline_s: float | None = None

    @property
    def id(self) -> str:
        """`smoke/checks/cache.py::test_ping`: pytest's node id of its item."""
        return f"{self.func.__module__.replace('.', '/')}.py::{self.name}"

    @property
    def needs(self) -> tuple[str, ...]:
        return tuple(inspect.signature(self.func).parameters)

    @property
    def location(self) -> tuple[str, int]:
        """Its module's path (as in its id) and the line of its `def`."""
        return self.id.split("::", 1)[0], self.func.__code__.co_firstlineno


@dataclass(frozen=True)
class ClientSpec:
    """A declared client: the name its value is passed under, and its function."""

    service: str
    name: str
    func: Callable[..., Any]

    @property
    def needs(self) -> tuple[str, ...]:
        return tuple(inspect.signature(self.func).parameters)


@dataclass(frozen=True)
class Service:
    """One service's clients and checks, in the order they are declared."""

    name: str
    clients: tuple[ClientSpec, ...]
    checks: tuple[CheckSpec, ...]
    after: tuple[str, ...] = ()

    def only(self, names: set[str]) -> Service:
        """The same service with only the checks named (selection: -k, -m, --read-only)."""
        kept = tuple(c for c in self.checks if c.name in names)
        return Service(self.name, self.clients, kept, self.after)


def declared(module: Any) -> Service:
    """The service a check module declares (its clients and checks, in source order); a
    parameter no client or common value provides is a TypeError naming it."""
    name = module.__name__.rsplit(".", 1)[-1]
    found = [v for v in vars(module).values() if getattr(v, "__module__", "") == module.__name__]
    clients = tuple(ClientSpec(name, f.__name__, f) for f in found if getattr(f, _CLIENT, False))
    checks = tuple(
        CheckSpec(name, f.__name__, f, *getattr(f, _CHECK)) for f in found if hasattr(f, _CHECK)
    )
    known = set(COMMON)
    specs: tuple[ClientSpec | CheckSpec, ...] = (*clients, *checks)
    for spec in specs:
        unknown = [n for n in spec.needs if n not in known]
        if unknown:
            raise TypeError(
                f"smoke: {module.__name__}.{spec.name} needs {', '.join(unknown)}, which no "
                f"client of its module provides (common values: {', '.join(COMMON)})"
            )
        if isinstance(spec, ClientSpec):
            known.add(spec.name)
    return Service(name, clients, checks, AFTER.get(name, ()))


def load(names: tuple[str, ...] = SERVICES) -> list[Service]:
    """The services named, their check modules imported (`smoke.checks.<name>`)."""
    return [declared(importlib.import_module(f"smoke.checks.{n}")) for n in names]
