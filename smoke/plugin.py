"""The smoke suite's pytest plugin: loads the outputs, masks secrets in every report, prints
the per-service summary, runs the checks of different services at the same time
(smoke/concurrency.py), and provides the session fixtures checks use (`outputs`, `timeout_s`,
`run_id`; each module imports `check` from smoke/checks.py). Loaded by smoke/conftest.py, which
also declares the command-line options.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import threading
import uuid
import warnings
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from smoke import concurrency, outages
from smoke.checks import service_of
from smoke.outputs import OutputsError, StackOutputs, load_from_file, load_from_stack
from smoke.redact import Redactor, redact_report, url_secrets
from smoke.report import outcomes, render, tally, write_json

CHECK_TIMEOUT_S = 3.0  # each network call to a cloud stack
LOCAL_CHECK_TIMEOUT_S = 2.0  # ... and to the local one
CHECK_DEADLINE_S = 20.0  # hard ceiling per check; each network call has its own, shorter timeout
ENVIRON_MIN_SECRET_LEN = 8  # `FOO_TOKEN=true` in a shell must not mask every "true"
_outputs_key = pytest.StashKey[StackOutputs]()
_redactor_key = pytest.StashKey[Redactor]()
_factory_key = pytest.StashKey[Any]()
# The warning hook gets no config: the redactor of the run being configured.
_active: Redactor | None = None


def redactor_of(config: pytest.Config) -> Redactor:
    """The run's `Redactor` (empty until the outputs are loaded)."""
    return config.stash.setdefault(_redactor_key, Redactor())


def load_outputs(config: pytest.Config, redactor: Redactor) -> StackOutputs:
    """The outputs named by `--outputs-file` or `--stack`; a usage error names what is wrong."""
    stack, path = config.getoption("--stack"), config.getoption("--outputs-file")
    if bool(stack) == bool(path):
        raise pytest.UsageError(
            "smoke: pass exactly one of --stack <name> or --outputs-file <outputs.json>"
        )
    threading.Thread(target=_preload_drivers, name="smoke-preload", daemon=True).start()
    try:
        return load_from_file(Path(path)) if path else load_from_stack(stack, redactor)
    except OutputsError as exc:
        raise pytest.UsageError(f"smoke: {redactor(str(exc))}") from None


def _preload_drivers() -> None:
    """Import the service drivers while the main thread waits on `pulumi stack output` (~0.5 s
    of a subprocess): the checks then start with them loaded. Import locks make it safe."""
    for module in ("psycopg", "redis", "httpx", "boto3", "botocore.session"):
        with contextlib.suppress(Exception):  # a broken driver is reported by its own check
            importlib.import_module(module)


def _install_log_redaction(config: pytest.Config, redactor: Redactor) -> None:
    """Mask secrets in log records as they are made, so live logging (`--log-cli-level`) and
    captured logs never hold one (botocore's debug log prints request headers)."""
    previous = logging.getLogRecordFactory()
    config.stash[_factory_key] = previous

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            record.msg, record.args = redactor(record.getMessage()), None
        except Exception:  # a record that cannot format is left for logging to report
            return record
        if record.exc_info and not record.exc_text:
            record.exc_text = redactor(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)


def pytest_configure(config: pytest.Config) -> None:
    outages.forget_all()
    config.addinivalue_line("markers", "writes: the check writes data (left out by --read-only)")
    if config.option.help:
        return
    given = config.getoption("--check-timeout")
    if given is not None and given <= 0:
        raise pytest.UsageError(
            "smoke: --check-timeout must be positive (seconds per network call)"
        )
    redactor = redactor_of(config)
    # Secrets of the caller's environment (passphrase, tokens) may appear in pulumi's errors.
    redactor.add_env(os.environ, min_len=ENVIRON_MIN_SECRET_LEN)
    outputs = load_outputs(config, redactor)
    redactor.add(outputs.database_url, outputs.redis_url)
    redactor.add_env(outputs.env)
    redactor.add_env(outputs.smoke_env)
    redactor.add(*url_secrets(outputs.storage_endpoint), *url_secrets(outputs.app_url or ""))
    config.stash[_outputs_key] = outputs
    _install_log_redaction(config, redactor)
    global _active
    _active = redactor


def pytest_unconfigure(config: pytest.Config) -> None:
    global _active
    _active = None
    if _factory_key in config.stash:
        logging.setLogRecordFactory(config.stash[_factory_key])


# The order services are checked in: each after the services it depends on, so a dependency
# found down makes its dependents fail at once instead of waiting for it again.
SERVICE_ORDER = (
    "database",
    "cache",
    "storage",
    "security",
    "app",
    "jobs",
    "errors",
    "data_api",
    "upstash_rest",
)


def check_deadline_s(config: pytest.Config) -> float:
    """A check makes a few calls, each bounded by --check-timeout; this only catches a hang."""
    return max(CHECK_DEADLINE_S, 5 * check_timeout_s(config))


def check_timeout_s(config: pytest.Config) -> float:
    """`--check-timeout`, else the default for the stack's target: a local server that takes
    2 s to answer is hung (healthy ones answer in 0.00-0.18 s, docs/faults.md); a cloud one is
    given 3 s for the round trips and TLS handshakes of the internet."""
    given = config.getoption("--check-timeout")
    if given is not None:
        return float(given)
    outputs = config.stash.get(_outputs_key, None)
    return LOCAL_CHECK_TIMEOUT_S if outputs is not None and outputs.is_local else CHECK_TIMEOUT_S


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(SERVICE_ORDER)}
    items.sort(key=lambda item: rank.get(service_of(item.nodeid), len(rank)))  # stable sort
    deadline = check_deadline_s(config)
    for item in items:
        item.add_marker(pytest.mark.timeout(deadline))
    if config.getoption("--read-only"):
        writing = [item for item in items if item.get_closest_marker("writes")]
        items[:] = [item for item in items if not item.get_closest_marker("writes")]
        config.hook.pytest_deselected(items=writing)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """The checks of different services at the same time (smoke/concurrency.py), unless a
    reason to run them one after another is found; the header line says which."""
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        return None  # pytest's own loop reports the collection errors
    if session.config.option.collectonly or not session.items:
        return None
    reason = concurrency.why_serial(session)
    terminal = session.config.pluginmanager.getplugin("terminalreporter")
    if reason is not None:
        if terminal is not None:
            terminal.write_line(f"smoke: checks run one after another ({reason})")
        return None
    if terminal is not None:
        modules = len({concurrency.module_of(item) for item in session.items})
        terminal.write_line(
            f"smoke: {modules} services checked at the same time (--serial: one by one)"
        )
    concurrency.run(session, check_deadline_s(session.config), redactor_of(session.config))
    return True


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """A check's own code runs without the concurrency lock: its network waits overlap."""
    with concurrency.unlocked():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    """And a check's teardown: it finalizes only its own function's and module's fixtures (a
    module's cleanup talks to its service); the session's are finalized after the run."""
    with concurrency.unlocked():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    """So does a module's own fixture (opening its client); session fixtures are shared by the
    threads and stay under the lock."""
    if fixturedef.scope == "session":
        return (yield)
    with concurrency.unlocked():
        return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Mask every secret in the report (terminal, --junitxml, any plugin) once all other
    hooks have shaped it (tryfirst: outermost wrapper, so its code after `yield` runs last)."""
    report = yield
    if report.when == "setup" and not any(n == "service" for n, _ in item.user_properties):
        item.user_properties.insert(0, ("service", service_of(item.nodeid)))
    if report.failed and call.excinfo is not None:
        # On the item too: junit writes the properties of the teardown report.
        for props in (item.user_properties, report.user_properties):
            props.append(("error_class", call.excinfo.typename))
    redact_report(report, redactor_of(item.config))
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Collection errors (an import failing in a check module) are masked the same way."""
    report = yield
    redact_report(report, redactor_of(collector.config))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_warning_recorded(warning_message: warnings.WarningMessage) -> None:
    """Mask warning texts before the terminal reporter formats them."""
    if _active is None:
        return
    text = str(warning_message.message)
    masked = _active(text)
    if masked != text:
        try:
            warning_message.message = type(warning_message.message)(masked)
        except Exception:  # a warning class with an unusual constructor
            warning_message.message = UserWarning(masked)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports = [
        r
        for key in ("passed", "failed", "error", "skipped")
        for r in terminalreporter.stats.get(key, [])
        if isinstance(r, pytest.TestReport)
    ]
    checks = outcomes(reports)
    json_path = terminalreporter.config.getoption("--json-report")
    if json_path:
        write_json(Path(json_path), checks)
    if not checks:
        return
    terminalreporter.section("smoke summary")
    # What the outcome checks saw (a job run's id, an error's id): proof, not just a pass.
    for report in reports:
        for name, value in report.user_properties:
            if name == "seen" and report.when == "call":
                terminalreporter.write_line(str(value))
    for line in render(tally(checks)):
        terminalreporter.write_line(line, red=line.startswith("SMOKE: FAILED"), bold=True)


@pytest.fixture(scope="session")
def outputs(pytestconfig: pytest.Config) -> StackOutputs:
    """The stack's outputs contract (secrets in clear: never print them)."""
    return pytestconfig.stash[_outputs_key]


@pytest.fixture(scope="session")
def timeout_s(pytestconfig: pytest.Config) -> float:
    """Seconds allowed to each network call (`check_timeout_s`)."""
    return check_timeout_s(pytestconfig)


@pytest.fixture(scope="session")
def run_id() -> str:
    """Namespaces this run's smoke data (`smoke:<run-id>:...`) so concurrent runs never collide."""
    return uuid.uuid4().hex[:12]
