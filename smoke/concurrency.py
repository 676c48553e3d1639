"""Runs the checks of different services at the same time, and reports them in collection order.

Each check module (one service) runs in a thread of its own, its checks one after another, so a
module's client is opened once and reused and a service's checks still see each other's
outages. pytest's machinery is not thread-safe, so a worker holds one lock whenever it is inside
it (setup and teardown bookkeeping, report making) and lets go only while a check's own code or
a module-local fixture runs: that is where the network waits are. Output is captured per
thread (smoke/thread_output.py) and masked before it joins the check's report. The main thread
hands each check's reports to pytest in collection order, once that check is done, so the
terminal, `--junitxml` and `--json-report` read exactly as in a serial run.

Falls back to pytest's own serial loop (the header line says why) with `--serial`, `--pdb` or
`--trace`, with fewer than two modules, or when a check uses a fixture that is neither
session-scoped nor defined in its own module: pytest caches a fixture's value on its definition,
so two threads would share one instance. That is why each check module imports the `check`
fixture (`from smoke.checks import check as check`) instead of getting it from the plugin.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from _pytest import assertion, runner
from _pytest.runner import SetupState, runtestprotocol
from _pytest.warnings import catch_warnings_for_item

from smoke import outages, thread_output

STOP_GRACE_S = 5.0
_lock = threading.Lock()
_local = threading.local()  # in a worker: .state (its SetupState)


def module_of(item: pytest.Item) -> str:
    """The node id of the module a check is in: the unit that runs in one thread."""
    return item.nodeid.split("::", 1)[0]


def why_serial(session: pytest.Session) -> str | None:
    """Why this run's checks must run one after another, or None when they may run at once."""
    config = session.config
    if config.getoption("--serial", False):
        return "--serial"
    if config.getoption("usepdb", False) or config.getoption("trace", False):
        return "--pdb/--trace"
    if len({module_of(item) for item in session.items}) < 2:
        return "one module"
    for item in session.items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            return f"{item.nodeid} is not a test function"
        module = module_of(item)
        for name, defs in info.name2fixturedefs.items():
            fixture = defs[-1]
            own = fixture.baseid == module or fixture.baseid.startswith(module + "::")
            if fixture.scope != "session" and not own:
                scope = fixture.scope
                return f"{item.nodeid} uses the {scope}-scoped fixture '{name}' of another module"
    return None


@contextmanager
def unlocked() -> Iterator[None]:
    """Let the other workers into pytest while this one waits on the network; a no-op outside a
    concurrent run's worker threads."""
    if getattr(_local, "state", None) is None:
        yield
        return
    _lock.release()
    try:
        yield
    finally:
        _lock.acquire()


class _StatePerThread:
    """`session._setupstate` during a concurrent run: pytest's SetupState is one stack of the nodes
    set up now, so each worker has its own; the main thread keeps the session's."""

    def __init__(self, main: SetupState) -> None:
        self._main = main

    def __getattr__(self, name: str) -> Any:
        return getattr(getattr(_local, "state", None) or self._main, name)


@dataclass(frozen=True)
class _Run:
    """What every worker of one run shares."""

    items: list[pytest.Item]
    stop: threading.Event
    redact: Callable[[str], str]


@dataclass
class _Slot:
    """One check: its reports once its worker ran it."""

    item: pytest.Item
    done: threading.Event = field(default_factory=threading.Event)
    started: float | None = None
    reports: list[pytest.TestReport] = field(default_factory=list)
    error: BaseException | None = None


def _hung(slot: _Slot, why: str) -> pytest.TestReport:
    return pytest.TestReport(
        slot.item.nodeid,
        slot.item.location,
        keywords={},
        outcome="failed",
        longrepr=f"{slot.item.nodeid}: {why}",
        when="call",
    )


@contextmanager
def _current_test_per_thread() -> Iterator[None]:
    """pytest keeps the running check in one environment variable, PYTEST_CURRENT_TEST, set and
    deleted around each phase; threads running checks at once would delete each other's. For the
    run: each thread's check is known to `outages.current_check`, and the variable names the
    check that set it last (deleted without failing when another thread already did)."""
    original = runner._update_current_test_var

    def update(item: pytest.Item, when: Literal["setup", "call", "teardown"] | None) -> None:
        if when:
            outages.set_current_check(item.nodeid)
            original(item, when)
        else:
            os.environ.pop("PYTEST_CURRENT_TEST", None)

    runner._update_current_test_var = update
    try:
        yield
    finally:
        runner._update_current_test_var = original


@contextmanager
def _assertion_hooks(item: pytest.Item) -> Iterator[None]:
    """pytest's rich assertion diffs, set once for the whole loop (pytest sets them per check in
    the protocol hook a concurrent run does not go through)."""
    hook = assertion.pytest_runtest_protocol(item)
    next(hook)
    try:
        yield
    finally:
        with suppress(StopIteration):
            hook.send(None)


def run(session: pytest.Session, ceiling_s: float, redact: Callable[[str], str]) -> None:
    """Run `session.items` module by module at the same time; report them in their order. A check
    still running `ceiling_s` after it started is reported failed (hung), with the rest of its
    module, without waiting for it. `redact` masks the output checks write."""
    items = session.items
    slots = [_Slot(item) for item in items]
    modules: dict[str, list[_Slot]] = {}
    for slot in slots:
        modules.setdefault(module_of(slot.item), []).append(slot)
    run = _Run(items, threading.Event(), redact)
    workers = [_Worker(module, own, run) for module, own in modules.items()]
    hung: dict[str, str] = {}  # module -> the check that hung in it
    main_state = session._setupstate
    session._setupstate = _StatePerThread(main_state)  # type: ignore[assignment]
    config = session.config
    try:
        with (
            catch_warnings_for_item(config, config.hook, "runtest", None),
            _assertion_hooks(items[0]),
            thread_output.per_thread(config),
            _current_test_per_thread(),
        ):
            for worker in workers:
                worker.thread.start()
            try:
                for slot in slots:
                    module = module_of(slot.item)
                    if module not in hung and not _finished_in_time(slot, ceiling_s):
                        hung[module] = slot.item.nodeid
                    _report(slot, hung.get(module), ceiling_s)
                    if session.shouldfail:
                        raise session.Failed(session.shouldfail)
                    if session.shouldstop:
                        raise session.Interrupted(session.shouldstop)
            finally:
                run.stop.set()
                _tear_down([worker for worker in workers if worker.module not in hung])
    finally:
        session._setupstate = main_state


class _Worker:
    """The thread that runs one module's checks, and the SetupState it keeps them in."""

    def __init__(self, module: str, slots: list[_Slot], run: _Run) -> None:
        self.module = module
        self.slots = slots
        self.run = run
        self.state = SetupState()
        # A check of another module as the last check's `nextitem`: pytest then tears this
        # module down after it and keeps the session's fixtures for the other workers.
        self.after_last = next(i for i in run.items if module_of(i) != module)
        self.thread = threading.Thread(target=self.work, name=f"smoke:{module}", daemon=True)

    def work(self) -> None:
        _local.state = self.state
        thread_output.start_capturing()
        try:
            for n, slot in enumerate(self.slots):
                if self.run.stop.is_set():
                    return
                nextitem = self.slots[n + 1].item if n + 1 < len(self.slots) else self.after_last
                with _lock:
                    self.run_one(slot, nextitem)
        finally:
            _local.state = None
            thread_output.stop_capturing()

    def run_one(self, slot: _Slot, nextitem: pytest.Item) -> None:
        slot.started = time.monotonic()
        try:
            slot.reports = runtestprotocol(slot.item, nextitem=nextitem, log=False)
        except BaseException as exc:  # pytest.exit() or an internal error: main raises it
            slot.error = exc
        written = thread_output.collect()
        if slot.reports and written:
            report = next((r for r in slot.reports if r.when == "call"), slot.reports[-1])
            for stream, text in written.items():
                report.sections.append((f"Captured {stream} {report.when}", self.run.redact(text)))
        slot.done.set()


def _finished_in_time(slot: _Slot, ceiling_s: float) -> bool:
    """Wait for a check; False once it has run for longer than `ceiling_s`."""
    while not slot.done.wait(0.05):
        started = slot.started
        if started is not None and time.monotonic() - started > ceiling_s:
            return False
    return True


def _tear_down(workers: list[_Worker]) -> None:
    """Once every worker is done: the session fixtures each one set up (in its SetupState). After
    an interrupt or `-x`, a worker still inside a check is given STOP_GRACE_S to end it, then
    left (a daemon thread; its module's cleanup does not run)."""
    end = time.monotonic() + STOP_GRACE_S
    for worker in workers:
        worker.thread.join(max(0.0, end - time.monotonic()))
    with _lock:
        for worker in workers:
            if worker.thread.is_alive():
                continue
            _local.state = worker.state
            try:
                worker.state.teardown_exact(None)
            finally:
                _local.state = None


def _report(slot: _Slot, hung_by: str | None, ceiling_s: float) -> None:
    if slot.error is not None:
        raise slot.error
    ihook = slot.item.ihook
    with _lock:
        ihook.pytest_runtest_logstart(nodeid=slot.item.nodeid, location=slot.item.location)
        if hung_by == slot.item.nodeid:
            reports = [_hung(slot, f"still running {ceiling_s:g} s after it started (hung)")]
        elif hung_by is not None:
            reports = [_hung(slot, f"not run: {hung_by} hung before it in the same module")]
        else:
            reports = slot.reports
        for report in reports:
            ihook.pytest_runtest_logreport(report=report)
        ihook.pytest_runtest_logfinish(nodeid=slot.item.nodeid, location=slot.item.location)
