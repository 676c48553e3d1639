"""The engine on synthetic services (no servers): concurrency, every deadline enforced by the
engine itself, per-check output and logs, redaction, cleanup on failure and on a stop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from smoke import engine
from smoke.checks import CheckSpec, ClientSpec, Service
from smoke.failures import CheckFailed
from smoke.outputs import StackOutputs
from tests.unit.smoke.helpers import dead_outputs

OUTPUTS = StackOutputs.from_json(dead_outputs(1, 2, 3), "test", "local")
FOREVER = threading.Event()  # never set: a hang
SLACK_S = 2.0
"""What a bounded wait may overrun its deadline by here: the hangs are forever, so returning
at all proves the bound; eight test processes on two cores ran one 0.58 s late (CI, 2026-12-05)."""
log = logging.getLogger("smoke.test")


def settings(**kw: Any) -> engine.Settings:
    base: dict[str, Any] = dict(
        outputs=OUTPUTS, timeout_s=0.2, run_id="r1", check_deadline_s=1.0,
        setup_deadline_s=0.5, teardown_deadline_s=0.5, log_level=logging.INFO,
    )  # fmt: skip
    return engine.Settings(**{**base, **kw})


def service(
    name: str,
    *checks: Callable[..., None],
    client: Callable[..., Any] | None = None,
    after: tuple[str, ...] = (),
) -> Service:
    clients = (ClientSpec(name, "conn", client),) if client else ()
    specs = tuple(CheckSpec(name, f.__name__, f) for f in checks)
    return Service(name, clients, specs, after)


def outcomes(results: engine.Results) -> dict[str, tuple[str, str | None]]:
    return {f"{r.service}::{r.name}": (r.outcome, r.error_class) for r in results.checks}


def test_services_run_at_the_same_time_and_results_keep_declaration_order() -> None:
    def slow() -> None:
        time.sleep(0.4)

    started = time.monotonic()
    results = engine.run([service("a", slow), service("b", slow), service("c", slow)], settings())
    assert time.monotonic() - started < 3 * 0.4  # one after another: at least 1.2 s
    assert [r.service for r in results.checks] == ["a", "b", "c"]
    assert all(r.outcome == "passed" and r.duration_s >= 0.4 for r in results.checks)
    serial = time.monotonic()
    engine.run([service("a", slow), service("b", slow)], settings(serial=True))
    assert time.monotonic() - serial >= 0.8


def test_a_hang_in_client_setup_is_reported_within_its_deadline() -> None:
    def conn() -> Iterator[None]:
        FOREVER.wait()  # a server that accepted and never answers
        yield

    def first(conn: None) -> None: ...
    def second(conn: None) -> None: ...
    def other() -> None: ...

    started = time.monotonic()
    results = engine.run([service("db", first, second, client=conn), service("x", other)],
                         settings(setup_deadline_s=0.5))  # fmt: skip
    took = time.monotonic() - started
    assert took < 0.5 + SLACK_S, took
    found = outcomes(results)
    assert found["db::first"] == ("failed", "hung") and found["x::other"] == ("passed", None)
    assert "opening its client 'conn' still running 0.5 s after it started (hung)" in (
        results.checks[0].message
    )
    assert (
        results.checks[1].message
        == "not run: db: opening its client 'conn' hung before it in the same service"
    )


def test_a_hung_check_is_named_the_rest_of_its_service_not_run() -> None:
    def hangs() -> None:
        FOREVER.wait()

    def after() -> None: ...

    started = time.monotonic()
    results = engine.run([service("s", hangs, after)], settings(check_deadline_s=0.3))
    assert time.monotonic() - started < 0.3 + SLACK_S
    assert outcomes(results) == {"s::hangs": ("failed", "hung"), "s::after": ("failed", "hung")}
    assert results.checks[0].message == "s: hangs still running 0.3 s after it started (hung)"
    assert results.checks[1].message == "not run: hangs hung before it in the same service"


def test_a_hung_teardown_is_bounded_and_reported_on_the_last_check() -> None:
    def conn() -> Iterator[None]:
        yield
        FOREVER.wait()

    def only(conn: None) -> None: ...

    started = time.monotonic()
    results = engine.run([service("s", only, client=conn)], settings(teardown_deadline_s=0.3))
    assert time.monotonic() - started < 0.3 + SLACK_S
    assert results.checks[0].outcome == "failed"
    assert "closing its clients (cleanup) still running 0.3 s" in results.checks[0].message


def test_each_check_keeps_its_own_output_and_logs_while_running_at_once() -> None:
    def make(name: str) -> Callable[[], None]:
        def speak() -> None:
            for n in range(20):
                print(f"{name} says {n}")
                log.info("%s logs %d", name, n)
                time.sleep(0.005)

        speak.__name__ = f"speak_{name}"
        return speak

    results = engine.run([service(n, make(n)) for n in ("a", "b", "c")], settings())
    for result in results.checks:
        me = result.service
        assert result.stdout.count(f"{me} says") == 20 and result.log.count(f"{me} logs") == 20
        others = [o for o in "abc" if o != me]
        assert not any(f"{o} says" in result.stdout or f"{o} logs" in result.log for o in others)
        assert "INFO     smoke.test:" in result.log  # pytest's own log format


def test_secrets_are_masked_in_messages_output_and_logs() -> None:
    secret = "Sup3r-Secret-Value"

    def leaks() -> None:
        print(f"password={secret}")
        log.warning("connecting with %s", secret)
        raise CheckFailed(f"cache: refused {secret}")

    results = engine.run([service("s", leaks)], settings(redact=lambda t: t.replace(secret, "***")))
    result = results.checks[0]
    assert secret not in result.stdout + result.log + result.message
    assert "password=***" in result.stdout and result.message == "cache: refused ***"


def test_cleanup_runs_when_a_check_fails_and_the_failure_keeps_its_message() -> None:
    cleaned: list[str] = []

    def conn() -> Iterator[str]:
        yield "c"
        cleaned.append("done")

    def fails(conn: str) -> None:
        assert conn == "x", "cache: GET returned 'c'"

    def crashes(conn: str) -> None:
        raise ZeroDivisionError("boom")

    results = engine.run([service("s", fails, crashes, client=conn)], settings())
    assert cleaned == ["done"]
    assert results.checks[0].message.startswith("cache: GET returned 'c'")
    assert results.checks[1].error_class == "ZeroDivisionError"
    assert "Traceback" in results.checks[1].message  # an unexpected error shows where it came from


def test_a_stop_reports_unfinished_checks_interrupted_and_still_cleans_up() -> None:
    cleaned: list[str] = []
    stop = threading.Event()

    def conn() -> Iterator[None]:
        yield
        cleaned.append("done")

    def quick(conn: None) -> None: ...

    def slow(conn: None) -> None:
        stop.set()  # a signal arrives while this check runs
        time.sleep(0.2)

    def never(conn: None) -> None: ...

    results = engine.run([service("s", quick, slow, never, client=conn)], settings(), stop=stop)
    assert results.ended == "interrupted (stopped)"
    # The running check finished within the grace, so its own outcome is known.
    assert outcomes(results) == {
        "s::quick": ("passed", None),
        "s::slow": ("passed", None),
        "s::never": ("interrupted", "interrupted"),
    }
    assert cleaned == ["done"]


def test_the_runs_deadline_interrupts_it() -> None:
    def hangs() -> None:
        FOREVER.wait()

    started = time.monotonic()
    stops = settings(check_deadline_s=30, stop_grace_s=0.3, deadline=time.monotonic() + 0.3)
    results = engine.run([service("s", hangs)], stops)
    assert time.monotonic() - started < 0.3 + 0.3 + SLACK_S  # + the stop's grace
    assert results.interrupted and results.checks[0].outcome == "interrupted"
    assert (
        "was running when the run was interrupted (the run's deadline)" in results.checks[0].message
    )


def test_max_failures_stops_starting_checks() -> None:
    def fails() -> None:
        raise CheckFailed("s: wrong")

    def later() -> None: ...

    results = engine.run([service("s", fails, later)], settings(max_failures=1))
    assert outcomes(results) == {
        "s::fails": ("failed", "CheckFailed"),
        "s::later": ("skipped", None),
    }
    assert results.checks[1].message == "not run: the run stopped after 1 failure(s)"


def test_a_service_starts_after_its_dependencies_opened_their_clients() -> None:
    order: list[str] = []

    def conn() -> Iterator[None]:
        time.sleep(0.2)
        order.append("db open")
        yield

    def db_check(conn: None) -> None: ...

    def app_check() -> None:
        order.append("app check")

    engine.run([service("db", db_check, client=conn), service("app", app_check, after=("db",))],
               settings())  # fmt: skip
    assert order == ["db open", "app check"]


def test_a_check_needing_what_no_client_gives_is_refused_when_declared() -> None:
    import types

    import pytest

    from smoke.checks import check, declared

    module = types.ModuleType("smoke.checks.fake")

    @check()
    def test_x(nothing: int) -> None: ...

    test_x.__module__ = module.__name__
    module.test_x = test_x  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="test_x needs nothing, which no client of its module"):
        declared(module)


def test_callers_without_pytest_run_the_real_checks_and_get_records() -> None:
    """The gate, the bench or a drill: `run_stack` with the stack's outputs, no pytest."""
    results = engine.run_stack(
        settings(setup_deadline_s=5), names={"cache::test_ping", "database::test_connect"}
    )
    assert [(r.check, r.outcome) for r in results.checks] == [
        ("smoke/checks/database.py::test_connect", "failed"),
        ("smoke/checks/cache.py::test_ping", "failed"),
    ]
    assert results.checks[1].message == (
        "cache: redis at 127.0.0.1:2 refused connection (is the local stack up? run: make up)"
    )


def test_each_run_finds_its_own_outages() -> None:
    from smoke import outages

    # A server found down by one run (the watch's previous round, a gate's first try) may be
    # healed by the next: the next run must try it again, not fail from memory.
    outages.record("127.0.0.1:1", "refused connection", seen_by="earlier::run")
    seen: list[object] = []

    def check_memory() -> None:
        seen.append(outages.known("127.0.0.1:1"))

    results = engine.run([service("db", check_memory)], settings())
    assert outcomes(results) == {"db::check_memory": ("passed", None)}
    assert seen == [None]
