"""What each check records (service, redacted target, latency, attempts) and how it fails.

Checks request the `check` fixture (a `CheckRecorder`) and wrap each network call:

>>> def test_ping(cache, check, outputs):  # doctest: +SKIP
...     with check.timed(redact_url(outputs.redis_url)):
...         assert cache.ping()

A connection failure becomes one line naming the service, the target and the fix:
`cache: redis at 127.0.0.1:6390 refused connection (is the local stack up? run: make up)`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from smoke import outages
from smoke.faults import FaultKind, classify
from smoke.redact import redact_url
from stacks.contract import Target, deploy_command

if TYPE_CHECKING:
    from smoke.outputs import StackOutputs

SERVICES = ("database", "cache", "storage", "app")


def service_of(nodeid: str) -> str:
    """The service a check belongs to, from its module: `smoke/test_cache.py::test_ping` -> cache.

    >>> service_of("smoke/test_cache.py::test_ping")
    'cache'
    """
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return module.removeprefix("test_").removesuffix(".py")


@dataclass(frozen=True)
class CheckResult:
    """One check's record, as `--junitxml` properties and the summary see it."""

    service: str
    target: str
    latency_ms: float
    attempts: int

    def properties(self) -> list[tuple[str, str]]:
        """`(name, value)` pairs for `item.user_properties` (junit `<property>`)."""
        return [
            ("service", self.service),
            ("target", self.target),
            ("latency_ms", f"{self.latency_ms:.1f}"),
            ("attempts", str(self.attempts)),
        ]


class CheckRecorder:
    """Times a check's network calls and stores its `CheckResult` on the test item."""

    def __init__(self, item: pytest.Item) -> None:
        self.item = item
        self.service = service_of(item.nodeid)
        self.target = ""
        self.attempts = 0
        self.latency_ms = 0.0

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
            props: list[tuple[str, object]] = list(self.result.properties())
            names = {name for name, _ in props}
            kept = [p for p in self.item.user_properties if p[0] not in names]
            self.item.user_properties[:] = kept + props

    def record(self, name: str, value: object) -> None:
        """Keep `name=value` with the check's report (junit `<property>`, `--json-report`); a
        `seen` value is printed above the smoke summary. pytest's `record_property` does the
        same, but as a shared fixture it would make smoke run its checks serially."""
        self.item.user_properties.append((name, value))

    @property
    def result(self) -> CheckResult:
        """What has been recorded so far."""
        return CheckResult(self.service, self.target, round(self.latency_ms, 1), self.attempts)


@pytest.fixture
def check(request: pytest.FixtureRequest) -> CheckRecorder:
    """Records the current check's service, redacted target, latency and attempts. Each check
    module imports it (`from smoke.checks import check as check`) so it is that module's own
    fixture: smoke/concurrency.py runs modules at once, and pytest caches a fixture's value on
    its definition."""
    return CheckRecorder(request.node)


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
    return pytest.fail.Exception(
        f"{service}: {what} at {endpoint(url)} {happened} ({fix_hint(outputs, happened)})",
        pytrace=False,
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
            raise pytest.fail.Exception(
                f"{service}: {what} needs {name} at {outage.target}, which {outage.happened} "
                f"(found by {outage.seen_by}; not waited for again) "
                f"({fix_hint(outputs, outage.happened)})",
                pytrace=False,
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


def fail_if_the_app_reports_down(what: str, service: str, health: Callable[[], Any]) -> None:
    """Fail at once when the app's own /api/health (read once per run) said `service` is
    unhealthy: a check that needs it through the app would only wait for the app's timeouts."""
    try:
        body = health().json()
    except (pytest.fail.Exception, ValueError):
        return  # the health check reports that itself
    reported = body.get("services", {}).get(service, {}) if isinstance(body, dict) else {}
    if isinstance(reported, dict) and reported.get("healthy") is False:
        detail = reported.get("error") or "unhealthy"
        pytest.fail(
            f"app: {what} needs the {service}, which the app's /api/health reports unhealthy "
            f"({detail}; not waited for again)",
            pytrace=False,
        )


def fail_if_down(service: str, what: str, url: str, outputs: StackOutputs | None = None) -> None:
    """Fail at once when an earlier check found `url`'s endpoint timed out or refused: one wait
    per dead service, and every check of it names the same cause."""
    outage = outages.known(endpoint(url))
    if outage is not None:
        raise pytest.fail.Exception(
            f"{service}: {what} at {outage.target} {outage.happened} (found by "
            f"{outage.seen_by}; not waited for again) ({fix_hint(outputs, outage.happened)})",
            pytrace=False,
        )


def call_failed(service: str, action: str, target: str, exc: BaseException) -> BaseException:
    """The failure of one call after the service answered, e.g. a query error; `target` is
    shown redacted and the driver's own message is kept (the report hook masks it anyway)."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return pytest.fail.Exception(
        f"{service}: {action} on {redact_url(target)} failed ({type(exc).__name__}: {detail})",
        pytrace=False,
    )


def connect_postgres(
    outputs: StackOutputs, timeout_s: float, settings: dict[str, str], autocommit: bool
) -> Any:
    """A psycopg connection to the stack's database within the check timeout, with `settings`
    applied by `SET` once connected (Supavisor's transaction mode ignores `options=-c ...`, so
    a pooled cloud session would silently run without them); a failure to connect is raised as
    `unreachable` (named service, no password, the fix)."""
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
    try:
        with conn.pipeline():  # one round trip for all of them
            for name, value in settings.items():
                setting = sql.SQL("set {} = {}").format(sql.Identifier(name), sql.Literal(value))
                conn.execute(setting)
    except psycopg.Error as exc:
        conn.close()
        raise call_failed("database", "session settings", outputs.database_url, exc) from None
    conn.autocommit = autocommit
    return conn
