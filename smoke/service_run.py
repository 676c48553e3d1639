"""One service's run, in a thread of its own (smoke/engine.py watches it): open the service's
clients within the setup deadline, run its checks one after another on them, close the clients
(their teardown cleans up smoke data) whatever the checks did, and keep a `CheckResult` per
check. Also the run's `Settings` and `Results`, which the engine's callers use.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

from smoke import capture, outages
from smoke.checks import CheckSpec, Service
from smoke.checks.common import Recorder
from smoke.failures import CheckFailed, CheckSkipped
from smoke.outputs import StackOutputs
from smoke.report import CheckResult


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
class Step:
    label: str
    started: float
    deadline_s: float
    check: CheckSpec | None = None


class Worker:
    """One service's thread, and what the calling thread may read of it (under `lock`)."""

    def __init__(self, service: Service, settings: Settings, halt: threading.Event) -> None:
        self.service, self.settings, self.halt = service, settings, halt
        self.lock = threading.Lock()
        self.step: Step | None = None
        self.results: dict[str, CheckResult] = {}
        self.hung: Step | None = None  # set by the calling thread: the worker is abandoned
        self.ready = threading.Event()  # clients opened (or failed to)
        self.done: Future[None] = Future()
        self.failed: Callable[[], None] = lambda: None  # told of each failure (-x)
        self.thread = threading.Thread(target=self.work, name=f"smoke:{service.name}", daemon=True)

    def begin(self, label: str, deadline_s: float, spec: CheckSpec | None = None) -> None:
        with self.lock:
            self.step = Step(label, time.monotonic(), deadline_s, spec)
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
                failure = self.outcome_of(exc, blank(self.service), time.perf_counter() - started)
            finally:
                failure = with_output(failure, self.end())
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
        self.keep(with_output(result, self.end()) or result)

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


def blank(service: Service) -> CheckResult:
    return CheckResult("", service.name, "")


def with_output(result: CheckResult | None, written: dict[str, str]) -> CheckResult | None:
    if result is None or not written:
        return result
    return replace(result, **{k: getattr(result, k) + v for k, v in written.items()})
