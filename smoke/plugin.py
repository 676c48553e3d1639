"""The smoke suite's pytest face, through pytest's public API only: loads the outputs, collects
one item per check (smoke/items.py), hands the selected checks to the engine (smoke/engine.py)
from a `pytest_runtestloop` wrapper, then lets pytest's own loop report each item; masks
secrets in every report, prints the per-service summary and writes `--json-report` (at every
ending: interrupted checks are listed as such). Loaded by smoke/conftest.py, which also
declares the command-line options.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import signal
import threading
import time
import uuid
import warnings
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from smoke import engine, items, outages
from smoke.checks import SERVICES, Service, declared
from smoke.outputs import OutputsError, StackOutputs, load_from_file, load_from_stack
from smoke.redact import Redactor, redact_report
from smoke.report import CheckResult, render, tally, write_json

CHECK_TIMEOUT_S = 3.0  # each network call to a cloud stack
LOCAL_CHECK_TIMEOUT_S = 2.0  # ... and to the local one
CHECK_DEADLINE_S = 20.0  # hard ceiling per check; each network call has its own, shorter timeout
# A client's setup (connect, one round trip) and teardown (cleanup): a few calls, each bounded.
SETUP_CALLS = 2
ENVIRON_MIN_SECRET_LEN = 8  # `FOO_TOKEN=true` in a shell must not mask every "true"
_outputs_key = pytest.StashKey[StackOutputs]()
PRELOAD_WAIT_S = 20.0  # the drivers' imports take ~0.5 s; bounded all the same
_redactor_key = pytest.StashKey[Redactor]()
_factory_key = pytest.StashKey[Any]()
_results_key = pytest.StashKey[list[CheckResult]]()
_wall_key = pytest.StashKey[float]()
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
    preload = threading.Thread(target=_preload_drivers, name="smoke-preload", daemon=True)
    preload.start()
    try:
        return load_from_file(Path(path)) if path else load_from_stack(stack, redactor)
    except OutputsError as exc:
        raise pytest.UsageError(f"smoke: {redactor(str(exc))}") from None
    finally:
        # Every driver is imported before any check's thread starts: first imports of one
        # package from several threads at once can fail (CPython gh-106905; issue 19 saw one
        # flaky failure in ~40 runs).
        preload.join(PRELOAD_WAIT_S)


def _preload_drivers() -> None:
    """Import the service drivers and the check modules while the main thread waits on
    `pulumi stack output` (~0.5 s of a subprocess): collection then finds the modules loaded
    and the checks start with their drivers ready."""
    drivers = ("psycopg", "redis", "httpx", "httpcore", "botocore.session")
    for module in (*drivers, *(f"smoke.checks.{name}" for name in SERVICES)):
        with contextlib.suppress(Exception):  # a broken module is reported by collection
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
    redactor.add_outputs(outputs)
    config.stash[_outputs_key] = outputs
    _install_log_redaction(config, redactor)
    global _active
    _active = redactor


def pytest_unconfigure(config: pytest.Config) -> None:
    global _active
    _active = None
    # The process ends here: freezing its objects spares the interpreter's final collection
    # over them (~0.2 s of a ~2.4 s smoke run, measured; gc.freeze is CPython's public API).
    gc.freeze()
    if _factory_key in config.stash:
        logging.setLogRecordFactory(config.stash[_factory_key])


def check_deadline_s(config: pytest.Config) -> float:
    """A check makes a few calls, each bounded by --check-timeout; this only catches a hang."""
    return max(CHECK_DEADLINE_S, 5 * check_timeout_s(config))


def client_deadline_s(config: pytest.Config) -> float:
    """A client's setup or teardown: `SETUP_CALLS` calls of one timeout each, and a second."""
    return SETUP_CALLS * check_timeout_s(config) + 1.0


def check_timeout_s(config: pytest.Config) -> float:
    """`--check-timeout`, else the default for the stack's target: a local server that takes
    2 s to answer is hung (healthy ones answer in 0.00-0.18 s, docs/faults.md); a cloud one is
    given 3 s for the round trips and TLS handshakes of the internet."""
    given = config.getoption("--check-timeout")
    if given is not None:
        return float(given)
    outputs = config.stash.get(_outputs_key, None)
    return LOCAL_CHECK_TIMEOUT_S if outputs is not None and outputs.is_local else CHECK_TIMEOUT_S


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    return items.collect_file(file_path, parent)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(SERVICES)}

    def order(item: pytest.Item) -> int:  # stable sort: declaration order within a service
        spec = getattr(item, "spec", None)
        return rank.get(spec.service, len(rank)) if spec is not None else len(rank)

    items.sort(key=order)
    if config.getoption("--read-only"):
        writing = [item for item in items if item.get_closest_marker("writes")]
        items[:] = [item for item in items if not item.get_closest_marker("writes")]
        config.hook.pytest_deselected(items=writing)


def selected(session: pytest.Session) -> list[Service]:
    """The services of the selected items, each with only its selected checks."""
    chosen = [i for i in session.items if isinstance(i, items.CheckItem)]
    by_service: dict[str, set[str]] = {}
    for item in chosen:
        by_service.setdefault(item.spec.service, set()).add(item.spec.name)
    modules = {i.spec.service: i.spec.func.__module__ for i in chosen}
    return [
        declared(importlib.import_module(modules[name])).only(by_service[name])
        for name in SERVICES
        if name in by_service
    ]


def settings_of(config: pytest.Config) -> engine.Settings:
    level = config.getoption("log_level", None)
    timeout = check_timeout_s(config)
    return engine.Settings(
        outputs=config.stash[_outputs_key],
        timeout_s=timeout,
        run_id=uuid.uuid4().hex[:12],  # namespaces this run's smoke data: smoke:<run-id>:...
        check_deadline_s=check_deadline_s(config),
        setup_deadline_s=client_deadline_s(config),
        teardown_deadline_s=client_deadline_s(config),
        read_only=bool(config.getoption("--read-only")),
        serial=bool(config.getoption("--serial")),
        max_failures=int(config.getoption("maxfail", 0) or 0),
        redact=redactor_of(config),
        log_level=logging.getLevelName(level.upper()) if isinstance(level, str) else level,
    )


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """Run the selected checks through the engine, then let pytest's loop report each item;
    an interrupt (SIGINT, or SIGTERM, turned into one here) is raised again once every item
    was reported, so JUnit and JSON list each check with its outcome."""
    config = session.config
    if (
        config.option.collectonly
        or not session.items
        or (session.testsfailed and not config.option.continue_on_collection_errors)
    ):
        return (yield)
    services = selected(session)
    pending = [CheckResult(c.id, c.service, c.name, "interrupted", message="not finished")
               for s in services for c in s.checks]  # fmt: skip
    _write_json(config, pending, "running (a report left like this: the run died)")
    terminal = config.pluginmanager.getplugin("terminalreporter")
    if terminal is not None:
        how = "one after another" if config.getoption("--serial") else "at the same time"
        terminal.write_line(f"smoke: {len(services)} services checked {how} (--serial: one by one)")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        started = time.monotonic()
        results = engine.run(services, settings_of(config))
        config.stash[_wall_key] = time.monotonic() - started
        session.stash[items.results_key] = {r.check: r for r in results.checks}
        config.stash[_results_key] = results.checks
        _write_json(config, results.checks, results.ended)
        outcome = yield
    finally:
        signal.signal(signal.SIGTERM, previous)
    if results.interrupted:
        raise KeyboardInterrupt(results.ended)
    return outcome


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run stopped before its checks started (a signal during collection) still leaves a
    report that says so, never a stale one or `passed` without checks."""
    config = session.config
    if _results_key not in config.stash and not config.option.collectonly:
        _write_json(config, [], f"stopped before any check ran (pytest exit {int(exitstatus)})")


def _write_json(config: pytest.Config, checks: list[CheckResult], ended: str) -> None:
    path = config.getoption("--json-report")
    if path:
        write_json(Path(path), checks, ended)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Mask every secret in the report (terminal, --junitxml, any plugin) once all other
    hooks have shaped it (tryfirst: outermost wrapper, so its code after `yield` runs last)."""
    report = yield
    if isinstance(item, items.CheckItem) and report.skipped and isinstance(report.longrepr, tuple):
        path, line = item.spec.location  # the check's own line, not the line that reports it
        report.longrepr = (path, line, report.longrepr[2])
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
    checks = terminalreporter.config.stash.get(_results_key, [])
    if not checks:
        return
    terminalreporter.section("smoke summary")
    # What the outcome checks saw (a job run's id, an error's id): proof, not just a pass.
    for check in checks:
        for name, value in check.properties:
            if name == "seen":
                terminalreporter.write_line(value)
    for line in render(tally(checks)):
        terminalreporter.write_line(line, red=line.startswith("SMOKE: FAILED"), bold=True)
    wall = terminalreporter.config.stash.get(_wall_key, None)
    if wall is not None:
        ran = [c.duration_s for c in checks if c.outcome != "skipped"]
        slowest = max(ran, default=0.0)
        terminalreporter.write_line(
            f"smoke: checks took {wall:.2f} s (slowest check {slowest:.2f} s)"
        )


@pytest.fixture(scope="session")
def outputs(pytestconfig: pytest.Config) -> StackOutputs:
    """The stack's outputs contract, for ad-hoc pytest tests run with this plugin (checks get
    theirs from the engine); secrets in clear: never print them."""
    return pytestconfig.stash[_outputs_key]
