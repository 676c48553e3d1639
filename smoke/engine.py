"""The smoke engine: runs declared checks (smoke/checks/) and returns one `CheckResult` each.

Each service runs in a thread of its own: its clients are opened, its checks run one after
another on them, then its clients are closed (their teardown deletes the run's smoke data),
whatever the checks did. Services run at the same time (`serial`: one after another), each
starting once the services it is declared after (`smoke.checks.AFTER`, none today) have
opened their clients.

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
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field, replace

from smoke import capture, outages
from smoke.checks import Service, load
from smoke.report import CheckResult
from smoke.service_run import Results, Settings, Worker

__all__ = ["Results", "Settings", "load", "run", "run_stack"]
POLL_S = 0.05


@dataclass
class _Run:
    workers: list[Worker]
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


def _running(worker: Worker) -> bool:
    return worker.thread.ident is not None and not worker.done.done() and worker.hung is None


def run(
    services: list[Service], settings: Settings, stop: threading.Event | None = None
) -> Results:
    """Run `services`' checks (see the module doc); never raises for a check's sake."""
    outages.forget_all()  # each run finds its own outages: a healed server is seen again
    state = _Run([Worker(s, settings, threading.Event()) for s in services], settings)
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
        except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM turned into one by the plugin
            state.ended = f"interrupted ({str(exc) or 'SIGINT'})"
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
