"""The smoke plugin runs the checks of different modules (services) at the same time and reports
them in collection order (smoke/concurrency.py). Proven without timing: checks that meet at a
barrier pass only when they run at once, and a module made to finish last is still reported in
its place."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.unit.smoke.helpers import FAKE_SECRETS, dead_outputs, free_port, leaked

pytest_plugins = ["pytester"]

# Shared by the check modules of one child run (a module of its own, imported once).
MEETING = """
import threading

both = threading.Barrier(2, timeout=5)
first_done = threading.Event()
"""

FIRST = """
from meeting import both, first_done
from smoke.checks import check as check


def test_meets_the_other_service(check):
    both.wait()  # a BrokenBarrierError after 5 s when the other module is not running too


def test_reported_first_but_finishes_last(check):
    assert first_done.wait(5)
"""

SECOND = """
import pytest

from meeting import both, first_done
from smoke.checks import check as check


@pytest.fixture(scope="module")
def client():
    yield "opened"
    print("module torn down")


def test_meets_the_first_service(check, client):
    both.wait()


def test_finishes_before_the_first(check, client, outputs):
    print("password is", outputs.database_url)
    first_done.set()
    assert False, "fails after printing a secret"
"""


def run(pytester: pytest.Pytester, *args: str, **modules: str) -> pytest.RunResult:
    pytester.makeconftest(
        "from smoke.conftest import pytest_addoption  # noqa: F401\n"
        'pytest_plugins = ["smoke.plugin"]\n'
    )
    pytester.makepyfile(meeting=MEETING, **modules)
    path = pytester.path / "outputs.json"
    path.write_text(json.dumps(dead_outputs(free_port(), free_port(), free_port())))
    return pytester.runpytest_subprocess(
        "--outputs-file", str(path), "-p", "no:cacheprovider", "-rA", *args
    )


def test_modules_run_at_once_and_are_reported_in_collection_order(
    pytester: pytest.Pytester,
) -> None:
    junit = pytester.path / "junit.xml"
    result = run(pytester, "--junitxml", str(junit), "-v", test_a_first=FIRST, test_b_second=SECOND)
    result.assert_outcomes(passed=3, failed=1)
    out = result.stdout.str()
    assert "smoke: 2 services checked at the same time" in out
    names = [case.get("name") for case in ElementTree.parse(junit).getroot().iter("testcase")]
    assert names == [
        "test_meets_the_other_service",
        "test_reported_first_but_finishes_last",
        "test_meets_the_first_service",
        "test_finishes_before_the_first",
    ]
    lines = [line for line in out.splitlines() if "::test_" in line and "PASSED" in line]
    assert [line.split("::")[1].split()[0] for line in lines][:2] == names[:2]
    # Each check's output joins its own report, masked; nothing leaks to the terminal.
    assert "password is postgresql://***@127.0.0.1:" in out
    assert not leaked(out + junit.read_text(), FAKE_SECRETS)


def test_serial_on_request_and_then_the_checks_cannot_meet(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--serial", test_a_first=FIRST, test_b_second=SECOND)
    assert "smoke: checks run one after another (--serial)" in result.stdout.str()
    assert "BrokenBarrierError" in result.stdout.str()


def test_a_fixture_shared_across_modules_keeps_the_run_serial(pytester: pytest.Pytester) -> None:
    shared = FIRST.replace("(check)", "(check, tmp_path)", 1)
    result = run(pytester, test_a_first=shared, test_b_second=SECOND)
    assert (
        "checks run one after another (test_a_first.py::test_meets_the_other_service uses the "
        "function-scoped fixture 'tmp_path' of another module)" in result.stdout.str()
    )


def test_module_teardown_runs_after_its_last_check(pytester: pytest.Pytester) -> None:
    result = run(pytester, test_a_first=FIRST, test_b_second=SECOND)
    out = result.stdout.str()
    assert "Captured stdout" in out and "module torn down" in out


HANGS = """
import threading

from smoke.checks import check as check

def test_hangs(check):
    threading.Event().wait(60)

def test_after_the_hung_one(check):
    pass
"""

QUICK = """
from smoke.checks import check as check

def test_quick(check):
    pass
"""


def test_a_hung_check_is_reported_without_waiting_for_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "from smoke.conftest import pytest_addoption  # noqa: F401\n"
        'pytest_plugins = ["smoke.plugin"]\n'
        "import smoke.plugin\n"
        "smoke.plugin.check_deadline_s = lambda config: 0.5\n"
    )
    pytester.makepyfile(test_a_hangs=HANGS, test_b_quick=QUICK)
    path = pytester.path / "outputs.json"
    path.write_text(json.dumps(dead_outputs(free_port(), free_port(), free_port())))
    result = pytester.runpytest_subprocess(
        "--outputs-file", str(path), "-p", "no:cacheprovider", "-rA", timeout=30
    )
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    assert "test_hangs: still running 0.5 s after it started (hung)" in out
    assert "not run: test_a_hangs.py::test_hangs hung before it in the same module" in out


def test_junit_order_matches_a_serial_run_of_the_real_suite(tmp_path: Path) -> None:
    """The real smoke modules against a dead stack: the same testcase order with --serial."""
    from tests.unit.smoke.helpers import run_smoke

    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(dead_outputs(free_port(), free_port(), free_port())))
    orders = []
    for extra in ((), ("--serial",)):
        junit = tmp_path / f"junit{len(orders)}.xml"
        run_smoke(
            tmp_path, "--outputs-file", path, "--junitxml", junit, "--check-timeout", "1", *extra
        )
        root = ElementTree.parse(junit).getroot()
        orders.append([(c.get("classname"), c.get("name")) for c in root.iter("testcase")])
    assert orders[0] == orders[1] and len(orders[0]) > 20
