"""What each check records (redacted target, latency, attempts) and how it fails: the helpers
every check module shares.

Checks take `check` (a `Recorder`) and wrap each network call:

>>> def test_ping(cache, check, outputs):  # doctest: +SKIP
...     with check.timed(redact_url(outputs.redis_url)):
...         assert cache.ping()

A connection failure becomes one line naming the service, the target and the fix:
`cache: redis at 127.0.0.1:6390 refused connection (is the local stack up? run: make up)`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from smoke import outages
from smoke.clients.deadline import socket_deadline
from smoke.failures import CheckFailed
from smoke.faults import FaultKind, classify
from smoke.redact import redact_url
from stacks.contract import Target, deploy_command

if TYPE_CHECKING:
    from smoke.outputs import StackOutputs

T = TypeVar("T")
WATCH_POLL_S = 0.05  # how soon a long call is given up once its dependency is found down


class Recorder:
    """What one check records: its redacted target, latency and attempts (`timed`), and facts
    (`record`: JSON/JUnit properties; a `seen` fact is printed above the smoke summary)."""

    def __init__(self, service: str, name: str) -> None:
        self.service = service
        self.name = name
        self.target = ""
        self.attempts = 0
        self.latency_ms = 0.0
        self.facts: list[tuple[str, object]] = []

    @contextmanager
    def timed(self, target: str) -> Iterator[None]:
        """Time one attempt at `target`; credentials in it are masked before it is stored."""
        self.target = redact_url(target)
        self.attempts += 1
        start = time.perf_counter()
        try:
            yield
        finally:
            self.latency_ms += (time.perf_counter() - start) * 1000

    def record(self, name: str, value: object) -> None:
        """Keep `name=value` with the check's result."""
        self.facts.append((name, value))


def endpoint(url: str) -> str:
    """`host:port` of a URL, never its credentials.

    >>> endpoint("redis://:pw@127.0.0.1:6390/0")
    '127.0.0.1:6390'
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "?", parts.port
    except ValueError:
        return "?"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def what_happened(exc: BaseException) -> str:
    """`refused connection`, `timed out`, `dropped the connection`, `rejected the
    credentials`... from a driver error (smoke/faults.py classifies the whole cause chain).

    >>> what_happened(ConnectionRefusedError(111, "Connection refused"))
    'refused connection'
    """
    kind = classify(exc)
    if kind is FaultKind.OTHER:
        return f"is unreachable ({type(exc).__name__})"
    return kind.phrase


def fix_hint(outputs: StackOutputs | str | None, happened: str) -> str:
    """The fix to print after `happened` to a service of the stack that `outputs` came from
    (None: the local stack, as `make up` deploys it; a name: a cloud stack, for the services
    only cloud stacks have, such as the Data API).

    >>> fix_hint(None, "timed out")
    'is the local stack up? run: make up'
    >>> fix_hint("dev", "timed out")
    "is stack 'dev' up? run: pulumi up --stack dev --refresh"
    """
    if isinstance(outputs, str):
        local, stack, run = False, outputs, deploy_command(outputs, Target.CLOUD)
    else:
        local = outputs is None or outputs.is_local
        stack = "local" if outputs is None else outputs.stack
        run = "make up" if outputs is None else outputs.fix
    if not local:
        run += " --refresh"
    if happened == "rejected the credentials":
        return f"are the outputs stale? run: {run}"
    if local:
        return f"is the local stack up? run: {run}"
    return f"is stack '{stack}' up? run: {run}"


def unreachable(
    service: str, what: str, url: str, exc: BaseException, outputs: StackOutputs | None = None
) -> BaseException:
    """The failure to raise when `what` at `url` did not answer; no traceback, no secret.

    >>> str(unreachable("cache", "redis", "redis://:pw@127.0.0.1:6390", ConnectionError(
    ...     "Error 111 connecting to 127.0.0.1:6390. Connection refused.")))
    'cache: redis at 127.0.0.1:6390 refused connection (is the local stack up? run: make up)'
    """
    happened = what_happened(exc)
    outages.record(endpoint(url), happened)
    return CheckFailed(
        f"{service}: {what} at {endpoint(url)} {happened} ({fix_hint(outputs, happened)})"
    )


def fail_if_dependency_down(
    service: str, what: str, dependencies: dict[str, str], outputs: StackOutputs | None = None
) -> None:
    """Fail at once when a service `what` needs (name -> URL) was already found timed out or
    refused: the check would only wait out the same outage again. It names the dependency.

    >>> fail_if_dependency_down("app", "GET /api/health", {})  # nothing known down: no-op
    """
    for name, url in dependencies.items():
        outage = outages.known(endpoint(url)) if url else None
        if outage is not None:
            raise CheckFailed(
                f"{service}: {what} needs {name} at {outage.target}, which {outage.happened} "
                f"(found by {outage.seen_by}; not waited for again) "
                f"({fix_hint(outputs, outage.happened)})"
            )


def watching(
    service: str, what: str, dependencies: dict[str, str], outputs: StackOutputs | None = None
) -> Callable[[float], None]:
    """A `sleep` for a check's polling loop that first fails at once when a dependency was found
    down meanwhile (checks of other services run at the same time): a job run the frozen app
    cannot serve is not waited for until its own deadline."""

    def sleep(seconds: float) -> None:
        fail_if_dependency_down(service, what, dependencies, outputs)
        time.sleep(seconds)

    return sleep


def while_watching(
    call: Callable[[], T],
    service: str,
    what: str,
    dependencies: dict[str, str],
    outputs: StackOutputs | None = None,
) -> T:
    """`call()`'s result, but fail at once when a dependency is found down while it waits: a
    long call (the app's `/api/test-sentry` may take its flush on top of a timeout) is not
    waited out after another service's check named that dependency hung. `call` runs in a
    thread of its own, bounded by its own timeout; an abandoned one ends with it."""
    done: Future[T] = Future()

    def run() -> None:
        try:
            done.set_result(call())
        except BaseException as exc:  # handed to the caller below, never lost
            done.set_exception(exc)

    threading.Thread(target=run, name=f"smoke:{service}:call", daemon=True).start()
    while True:
        fail_if_dependency_down(service, what, dependencies, outputs)
        try:
            return done.result(timeout=WATCH_POLL_S)
        except FutureTimeout:
            continue


def fail_if_the_app_reports_down(what: str, service: str, health: Callable[[], Any]) -> None:
    """Fail at once when the app's own /api/health (read once per run) said `service` is
    unhealthy: a check that needs it through the app would only wait for the app's timeouts."""
    try:
        body = health().json()
    except (CheckFailed, ValueError):
        return  # the health check reports that itself
    reported = body.get("services", {}).get(service, {}) if isinstance(body, dict) else {}
    if isinstance(reported, dict) and reported.get("healthy") is False:
        detail = reported.get("error") or "unhealthy"
        raise CheckFailed(
            f"app: {what} needs the {service}, which the app's /api/health reports unhealthy "
            f"({detail}; not waited for again)"
        )


def fail_if_down(service: str, what: str, url: str, outputs: StackOutputs | None = None) -> None:
    """Fail at once when an earlier check found `url`'s endpoint timed out or refused: one wait
    per dead service, and every check of it names the same cause."""
    outage = outages.known(endpoint(url))
    if outage is not None:
        raise CheckFailed(
            f"{service}: {what} at {outage.target} {outage.happened} (found by "
            f"{outage.seen_by}; not waited for again) ({fix_hint(outputs, outage.happened)})"
        )


def call_failed(service: str, action: str, target: str, exc: BaseException) -> BaseException:
    """The failure of one call after the service answered, e.g. a query error; `target` is
    shown redacted and the driver's own message is kept (the report hook masks it anyway)."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return CheckFailed(
        f"{service}: {action} on {redact_url(target)} failed ({type(exc).__name__}: {detail})"
    )


def connect_postgres(
    outputs: StackOutputs, timeout_s: float, settings: dict[str, str], autocommit: bool
) -> Any:
    """A psycopg connection to the stack's database within the check timeout, with `settings`
    applied by `SET` once connected (Supavisor's transaction mode ignores `options=-c ...`, so
    a pooled cloud session would silently run without them); a failure to connect is raised as
    `unreachable` (named service, no password, the fix).

    Every session is bounded: `statement_timeout` (the check timeout, unless `settings` gives
    one) on the server, and a client-side deadline on the SETs, because a backend that
    authenticated and then froze answers nothing, and psycopg has no read timeout
    (smoke/clients/deadline.py). Queries are bounded the same way with `bounded(conn, ...)`."""
    import psycopg
    from psycopg import sql

    fail_if_down("database", "postgres", outputs.database_url, outputs)
    try:
        conn = psycopg.connect(
            outputs.database_url,
            connect_timeout=max(2, math.ceil(timeout_s)),  # libpq's floor is 2 s
            autocommit=True,  # the SETs below must not sit in a transaction a rollback undoes
        )
    except psycopg.Error as exc:
        raise unreachable("database", "postgres", outputs.database_url, exc, outputs) from None
    settings = {"statement_timeout": str(int(timeout_s * 1000)), **settings}
    try:
        with bounded(conn, timeout_s, "database: session settings"), conn.pipeline():
            for name, value in settings.items():  # one round trip for all of them
                setting = sql.SQL("set {} = {}").format(sql.Identifier(name), sql.Literal(value))
                conn.execute(setting)
    except TimeoutError as exc:
        conn.close()
        raise unreachable("database", "postgres", outputs.database_url, exc, outputs) from None
    except psycopg.Error as exc:
        conn.close()
        raise call_failed("database", "session settings", outputs.database_url, exc) from None
    conn.autocommit = autocommit
    return conn


def bounded(conn: Any, seconds: float, what: str) -> AbstractContextManager[None]:
    """A client-side deadline on every round trip of the block on `conn`'s socket: a frozen
    backend makes the block raise `TimeoutError` naming `what` (the connection is then dead).

    >>> with bounded(conn, 2.0, "database: query"):  # doctest: +SKIP
    ...     conn.execute("select 1")
    """
    return socket_deadline(conn.fileno(), seconds, what)
