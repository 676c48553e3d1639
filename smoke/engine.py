"""The smoke engine: runs declared checks (smoke/checks/) and returns one `CheckResult` each.

Each service runs in a thread of its own: its clients are opened, its checks run one after
another on them, then its clients are closed (their teardown deletes the run's smoke data),
whatever the checks did. Services run at the same time (`serial`: one after another), each
starting once the services it depends on (`smoke.checks.AFTER`) have opened their clients.

The calling thread enforces every deadline: a client's setup (`setup_deadline_s`), a check's
(its own or `check_deadline_s`) and a teardown's (`teardown_deadline_s`). A step still running
after its deadline is reported hung at once, the rest of its service "not run", and its thread
is left behind (a daemon). A stop (`stop` set, `KeyboardInterrupt`, the run's `deadline`) ends
the run: running checks get `stop_grace_s` to finish and clean up, unfinished ones are
reported `interrupted`. `max_failures` (pytest's -x / --maxfail) stops starting checks.

>>> results = run(load(("cache",)), settings)  # doctest: +SKIP
>>> results.checks[0].outcome
'passed'
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from typing import Any

from smoke import capture, outages
from smoke.checks import CheckSpec, Service, load
from smoke.checks.common import Recorder
from smoke.failures import CheckFailed, CheckSkipped
from smoke.outputs import StackOutputs
from smoke.report import CheckResult

__all__ = ["Results", "Settings", "load", "run"]
POLL_S = 0.05


@dataclass(frozen=True)
class Settings:
    """What one run needs: the stack, the timeouts and deadlines, how to mask secrets."""

    outputs: StackOutputs
    timeout_s: float
    run_id: str
    check_deadline_s: float
    setup_deadline_s: float
    teardown_deadline_s: float
    read_only: bool = False
    serial: bool = False
    max_failures: int = 0  # 0: never stop early
    deadline: float | None = None  # time.monotonic() at which the run stops
    redact: Callable[[str], str] = str
    log_level: int | None = None
    stop_grace_s: float = 2.0  # after a stop: for running checks to end and clean up


@dataclass(frozen=True)
class Results:
    """Every selected check's result, in declaration order; `ended` says how the run ended."""

    checks: list[CheckResult]
    ended: str = "finished"

    @property
    def interrupted(self) -> bool:
        return self.ended != "finished"


@dataclass
class _Step:
    label: str
    started: float
    deadline_s: float
    check: CheckSpec | None = None


class _Worker:
    """One service's thread, and what the calling thread may read of it (under `lock`)."""

    def __init__(self, service: Service, settings: Settings, halt: threading.Event) -> None:
        self.service, self.settings, self.halt = service, settings, halt
        self.lock = threading.Lock()
        self.step: _Step | None = None
        self.results: dict[str, CheckResult] = {}
        self.hung: _Step | None = None  # set by the calling thread: the worker is abandoned
        self.ready = threading.Event()  # clients opened (or failed to)
        self.done: Future[None] = Future()
        self.failed: Callable[[], None] = lambda: None  # told of each failure (-x)
        self.thread = threading.Thread(target=self.work, name=f"smoke:{service.name}", daemon=True)

    def begin(self, label: str, deadline_s: float, spec: CheckSpec | None = None) -> None:
        with self.lock:
            self.step = _Step(label, time.monotonic(), deadline_s, spec)
        capture.begin()

    def end(self) -> dict[str, str]:
        written = capture.collect()
        with self.lock:
            self.step = None
        return {k: self.settings.redact(v) for k, v in written.items()}

    def keep(self, result: CheckResult) -> None:
        with self.lock:
            if self.hung is not None:
                return
            self.results[result.name] = result
        if result.failed:
            self.failed()

    def work(self) -> None:
        try:
            self._work()
            self.done.set_result(None)
        except BaseException as exc:  # a bug of ours: the calling thread reports it
            self.done.set_exception(exc)
        finally:
            self.ready.set()

    def _work(self) -> None:
        s = self.settings
        values: dict[str, Any] = {
            "outputs": s.outputs, "timeout_s": s.timeout_s, "run_id": s.run_id,
            "read_only": s.read_only,
        }  # fmt: skip
        opened: list[Iterator[Any]] = []
        failed: dict[str, CheckResult] = {}  # client name -> why it could not be opened
        if self.service.checks:  # an outage found while opening is found by the first check
            outages.set_current_check(self.service.checks[0].id)
        for spec in self.service.clients:
            inherited = next((failed[n] for n in spec.needs if n in failed), None)
            if inherited is not None:
                failed[spec.name] = inherited
                continue
            self.begin(f"opening its client '{spec.name}'", s.setup_deadline_s)
            started = time.perf_counter()
            failure: CheckResult | None = None
            try:
                value = spec.func(**{n: values[n] for n in spec.needs})
                if isinstance(value, Iterator):
                    opened.append(value)
                    value = next(value)
                values[spec.name] = value
            except BaseException as exc:
                failure = self.outcome_of(exc, _blank(self.service), time.perf_counter() - started)
            finally:
                failure = _with_output(failure, self.end())
            if failure is not None:
                failed[spec.name] = failure
        self.ready.set()
        for check in self.service.checks:
            blocked = next((failed[n] for n in check.needs if n in failed), None)
            if blocked is not None:
                self.keep(replace(blocked, check=check.id, name=check.name))
                continue
            if self.halt.is_set():
                break
            self.run_check(check, values)
        self.close(opened)

    def run_check(self, spec: CheckSpec, values: dict[str, Any]) -> None:
        recorder = Recorder(spec.service, spec.name)
        kwargs = {n: recorder if n == "check" else values[n] for n in spec.needs}
        outages.set_current_check(spec.id)
        self.begin(spec.name, spec.deadline_s or self.settings.check_deadline_s, spec)
        started = time.perf_counter()
        result = CheckResult(spec.id, spec.service, spec.name)
        try:
            spec.func(**kwargs)
        except BaseException as exc:
            result = self.outcome_of(exc, result, 0.0)
        result = replace(
            result,
            duration_s=time.perf_counter() - started,
            target=recorder.target,
            latency_ms=round(recorder.latency_ms, 1) if recorder.attempts else None,
            attempts=recorder.attempts,
            properties=tuple((k, self.settings.redact(str(v))) for k, v in recorder.facts),
        )
        self.keep(_with_output(result, self.end()) or result)

    def outcome_of(self, exc: BaseException, result: CheckResult, took: float) -> CheckResult:
        """The result a check (or client setup) ending in `exc` gets."""
        if isinstance(exc, CheckSkipped):
            outcome, message = "skipped", str(exc)
        elif isinstance(exc, CheckFailed | AssertionError) and str(exc):
            outcome, message = "failed", str(exc)
        elif not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: not a check's
            raise exc
        else:
            outcome, message = "failed", "".join(traceback.format_exception(exc)).rstrip()
        error = None if outcome == "skipped" else type(exc).__name__
        masked = self.settings.redact(message)
        return replace(result, outcome=outcome, message=masked, error_class=error, duration_s=took)

    def close(self, opened: list[Iterator[Any]]) -> None:
        """Each client's teardown, last opened first; a failure is added to the last check."""
        for gen in reversed(opened):
            self.begin("closing its clients (cleanup)", self.settings.teardown_deadline_s)
            problem = ""
            try:
                next(gen)
                problem = "a client yielded twice"
            except StopIteration:
                pass
            except BaseException as exc:
                problem = str(exc) if isinstance(exc, CheckFailed) else repr(exc)
            self.end()
            if problem:
                self.amend_last(f"then its service's cleanup failed: {problem}")

    def amend_last(self, problem: str) -> None:
        with self.lock:
            if self.hung is not None or not self.results:
                return
            name, last = list(self.results.items())[-1]
            message = self.settings.redact(f"{last.message}\n{problem}".strip())
            self.results[name] = replace(last, outcome="failed", message=message,
                                         error_class=last.error_class or "teardown")  # fmt: skip


def _blank(service: Service) -> CheckResult:
    return CheckResult("", service.name, "")


def _with_output(result: CheckResult | None, written: dict[str, str]) -> CheckResult | None:
    if result is None or not written:
        return result
    return replace(result, **{k: getattr(result, k) + v for k, v in written.items()})


@dataclass
class _Run:
    workers: list[_Worker]
    settings: Settings
    halt: threading.Event = field(default_factory=threading.Event)
    ended: str = "finished"

    def start_ready(self) -> None:
        by_name = {w.service.name: w for w in self.workers}
        for worker in self.workers:
            if worker.thread.ident is not None:
                continue
            if self.settings.serial and any(_running(w) for w in self.workers):
                return
            deps = [by_name[d] for d in worker.service.after if d in by_name]
            settled = all(d.ready.is_set() or d.hung is not None for d in deps)
            if settled and not self.halt.is_set():
                worker.thread.start()

    def check_deadlines(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            with worker.lock:
                step = worker.step
                if (
                    step is not None
                    and worker.hung is None
                    and now - step.started > step.deadline_s
                ):
                    worker.hung = step


def _running(worker: _Worker) -> bool:
    return worker.thread.ident is not None and not worker.done.done() and worker.hung is None


def run(
    services: list[Service], settings: Settings, stop: threading.Event | None = None
) -> Results:
    """Run `services`' checks (see the module doc); never raises for a check's sake."""
    state = _Run([_Worker(s, settings, threading.Event()) for s in services], settings)
    for worker in state.workers:
        worker.halt = state.halt
    stop = stop or threading.Event()
    failures = iter(range(1, 1 << 30))  # next() is atomic under the GIL: one count per failure

    def failed() -> None:
        if settings.max_failures and next(failures) >= settings.max_failures:
            state.halt.set()

    for worker in state.workers:
        worker.failed = failed
    with capture.per_thread(settings.log_level):
        try:
            _loop(state, stop)
        except KeyboardInterrupt:
            state.ended = "interrupted (SIGINT)"
        if state.ended != "finished":
            state.halt.set()
            _grace(state)
    return Results(_collect(state), state.ended)


def _loop(state: _Run, stop: threading.Event) -> None:
    settings = state.settings
    while True:
        state.start_ready()
        state.check_deadlines()
        running = [w for w in state.workers if _running(w)]
        if not running and all(w.thread.ident or state.halt.is_set() for w in state.workers):
            return
        if stop.is_set():
            state.ended = "interrupted (stopped)"
            return
        if settings.deadline is not None and time.monotonic() >= settings.deadline:
            state.ended = "interrupted (the run's deadline)"
            return
        wait([w.done for w in running], timeout=POLL_S, return_when=FIRST_COMPLETED)


def _grace(state: _Run) -> None:
    """After a stop: running services finish their check and clean up, within `stop_grace_s`
    (a second interrupt leaves them at once)."""
    end = time.monotonic() + state.settings.stop_grace_s
    try:
        while any(_running(w) for w in state.workers) and time.monotonic() < end:
            running = [w.done for w in state.workers if _running(w)]
            wait(running, timeout=POLL_S, return_when=FIRST_COMPLETED)
    except KeyboardInterrupt:
        pass


def _collect(state: _Run) -> list[CheckResult]:
    """Every selected check's result: its own, else why it has none."""
    results: list[CheckResult] = []
    for worker in state.workers:
        with worker.lock:
            own, hung, unfinished = dict(worker.results), worker.hung, worker.step
        crashed = worker.done.exception() if worker.done.done() else None
        blocker = ""
        if hung is not None and hung.check is None and len(own) == len(worker.service.checks):
            last = worker.service.checks[-1].name  # every check ran: the cleanup hung
            note = f"{hung.label} still running {hung.deadline_s:g} s after it started (hung)"
            message = f"{own[last].message}\n{worker.service.name}: {note}".strip()
            own[last] = replace(own[last], outcome="failed", error_class="hung", message=message)
        for spec in worker.service.checks:
            if spec.name in own:
                results.append(own[spec.name])
                continue
            result = CheckResult(spec.id, spec.service, spec.name, outcome="failed")
            if crashed is not None:
                text = "".join(traceback.format_exception(crashed))
                result = replace(result, error_class="engine", message=state.settings.redact(text))
            elif hung is not None and not blocker:
                blocker = spec.name if hung.check is spec else f"{spec.service}: {hung.label}"
                message = (
                    f"{spec.service}: {spec.name} still running {hung.deadline_s:g} s after it "
                    "started (hung)"
                    if hung.check is spec
                    else f"{blocker} still running {hung.deadline_s:g} s after it started (hung)"
                )
                result = replace(result, error_class="hung", message=message,
                                 duration_s=hung.deadline_s)  # fmt: skip
            elif hung is not None:
                message = f"not run: {blocker} hung before it in the same service"
                result = replace(result, error_class="hung", message=message)
            elif state.ended != "finished":
                now = unfinished.label if unfinished and unfinished.check is spec else ""
                why = "was running" if now else "had not started"
                message = f"{spec.service}: {spec.name} {why} when the run was {state.ended}"
                result = replace(result, outcome="interrupted", error_class="interrupted",
                                 message=message)  # fmt: skip
            else:
                message = f"not run: the run stopped after {state.settings.max_failures} failure(s)"
                result = replace(result, outcome="skipped", message=message)
            results.append(result)
    return results


def run_stack(settings: Settings, names: set[str] | None = None) -> Results:
    """Every service's checks (or only those named `service::check`), for callers without pytest
    (the bench, a drill): `run_stack(settings).checks`."""
    services = load()
    if names is not None:
        services = [
            s.only({c.name for c in s.checks if f"{s.name}::{c.name}" in names}) for s in services
        ]
    if settings.read_only:
        services = [s.only({c.name for c in s.checks if not c.writes}) for s in services]
    return run([s for s in services if s.checks], settings)
