"""Smoke suite plumbing: options, the stack's outputs, per-check measures, redaction, summary."""

from __future__ import annotations

import uuid
from collections.abc import Generator
from pathlib import Path

import pytest

from smoke.outputs import OutputsError, StackOutputs, load_from_file, load_from_stack
from smoke.redact import Redactor
from smoke.report import Measure, render, tally, write_json

CHECK_DEADLINE_S = 20  # a hard ceiling per check; every network call has its own shorter timeout
_outputs_key = pytest.StashKey[StackOutputs]()
_redactor_key = pytest.StashKey[Redactor]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smoke", "mentora smoke suite")
    group.addoption("--stack", help="Pulumi stack whose outputs to check (needs the pulumi CLI)")
    group.addoption(
        "--outputs-file",
        type=Path,
        help="JSON of `pulumi stack output --json "
        "--show-secrets` to check instead of asking the CLI",
    )
    group.addoption(
        "--check-timeout",
        type=float,
        default=3.0,
        help="seconds allowed to each network call (default 3)",
    )
    group.addoption("--json-report", type=Path, help="write every check's record as JSON here")
    group.addoption(
        "--read-only", action="store_true", help="run only checks that write nothing (prod-safe)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "writes: the check writes data (left out by --read-only)")
    redactor = Redactor()
    config.stash[_redactor_key] = redactor
    stack, path = config.getoption("--stack"), config.getoption("--outputs-file")
    if not stack and not path:
        raise pytest.UsageError("smoke: pass --stack <name> or --outputs-file <outputs.json>")
    try:
        outputs = load_from_file(path) if path else load_from_stack(stack, redactor)
    except OutputsError as exc:
        raise pytest.UsageError(f"smoke: {redactor(str(exc))}") from None
    redactor.add(outputs.database_url, outputs.redis_url)
    redactor.add_env(outputs.env)
    config.stash[_outputs_key] = outputs


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.timeout(CHECK_DEADLINE_S))
    if config.getoption("--read-only"):
        writing = [item for item in items if item.get_closest_marker("writes")]
        items[:] = [item for item in items if not item.get_closest_marker("writes")]
        config.hook.pytest_deselected(items=writing)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, object, None]:
    """Mask every secret in what pytest reports (terminal, --junitxml, any plugin)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    redact = item.config.stash[_redactor_key]
    if report.failed:
        excinfo = getattr(call, "excinfo", None)
        report.user_properties.append(("error_class", excinfo.typename if excinfo else "Error"))
    if isinstance(report.longrepr, tuple):
        where, line, reason = report.longrepr
        report.longrepr = (where, line, redact(reason))
    elif report.longrepr is not None:
        report.longrepr = redact(str(report.longrepr))
    report.sections = [(name, redact(text)) for name, text in report.sections]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports = [
        r
        for key in ("passed", "failed", "error", "skipped")
        for r in terminalreporter.stats.get(key, [])
        if isinstance(r, pytest.TestReport)
    ]
    json_path = terminalreporter.config.getoption("--json-report")
    if json_path:
        write_json(json_path, reports)
    if not reports:
        return
    terminalreporter.section("smoke summary")
    for line in render(tally(reports)):
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def outputs(pytestconfig: pytest.Config) -> StackOutputs:
    """The stack's outputs contract (secrets in clear: never print them)."""
    return pytestconfig.stash[_outputs_key]


@pytest.fixture(scope="session")
def timeout_s(pytestconfig: pytest.Config) -> float:
    """Seconds allowed to each network call."""
    return float(pytestconfig.getoption("--check-timeout"))


@pytest.fixture(scope="session")
def run_id() -> str:
    """Namespaces this run's smoke data so concurrent runs never collide."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> Measure:
    """Records target, latency and attempts of the current check."""
    return Measure(request.node)
