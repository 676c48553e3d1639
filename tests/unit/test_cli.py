"""The deploy gate CLI's argument handling and exit codes, without touching any stack."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gate import cli
from gate import runner as runner_module
from gate.runner import Checkout

runner = CliRunner()


@pytest.fixture
def no_subprocess(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        raise AssertionError("no command may run")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    return calls


def test_destroy_prod_is_refused_without_the_flag(no_subprocess: list[Any]) -> None:
    result = runner.invoke(cli.app, ["destroy", "prod"])
    assert result.exit_code == cli.USAGE
    assert "refusing to destroy prod" in result.output
    assert no_subprocess == []


def test_missing_pulumi_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, no_subprocess: list[Any]
) -> None:
    monkeypatch.setattr(runner_module.shutil, "which", lambda _: None)
    result = runner.invoke(cli.app, ["up", "local"])
    assert result.exit_code == cli.USAGE
    assert "pulumi CLI not on PATH" in result.output


def test_stack_argument_is_required() -> None:
    result = runner.invoke(cli.app, ["smoke"])
    assert result.exit_code == 2
    assert "Missing argument" in result.output


class FakeChild:
    """Stands in for the pytest child process."""

    def __init__(self, code: int | None) -> None:
        self.code, self.signals = code, []

    def wait(self, timeout: float | None = None) -> int:
        if self.code is None and not self.signals:
            raise subprocess.TimeoutExpired("pytest", timeout or 0)
        return self.code if self.code is not None else 2

    def send_signal(self, signum: int) -> None:
        self.signals.append(signum)

    def kill(self) -> None:
        self.signals.append("kill")


@pytest.mark.parametrize(("pytest_code", "ours"), [(0, 0), (1, 1), (4, 2), (5, 2), (2, 1)])
def test_smoke_exit_codes(monkeypatch: pytest.MonkeyPatch, pytest_code: int, ours: int) -> None:
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: FakeChild(pytest_code))
    assert Checkout().smoke("local", deadline=5) == ours


def test_deadline_interrupts_the_suite_and_exits_3(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    child = FakeChild(None)
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: child)
    junit = tmp_path / "j.xml"
    assert Checkout().smoke("local", junit=junit, read_only=True, deadline=0.01) == cli.DEADLINE
    assert child.signals and child.signals[0] == 2  # SIGINT: pytest still runs its cleanup
    assert 'errors="1"' in junit.read_text()  # the suite wrote none: the gate's says why


@pytest.mark.parametrize(("stack", "installs"), [("dev", True), ("prod", True), ("local", False)])
def test_cloud_previews_install_the_pinned_plugins_first(
    monkeypatch: pytest.MonkeyPatch, stack: str, installs: bool
) -> None:
    ran: list[list[str]] = []

    def fake_run(args: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        ran.append([str(a) for a in args])
        failed = args[0].endswith("install-plugins.sh")  # offline: the installer says no
        return subprocess.CompletedProcess(args, 2 if failed else 0)

    class FakePulumi:
        stderr = None

        def __init__(self, args: list[str], **_: Any) -> None:
            ran.append([str(a) for a in args])

        def wait(self, timeout: float | None = None) -> int:
            return 0

    monkeypatch.setattr(runner_module.shutil, "which", lambda _: "/usr/bin/pulumi")
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(subprocess, "Popen", FakePulumi)
    result = runner.invoke(cli.app, ["preview", stack])
    names = [Path(a[0]).name if "stacks.preflight" not in a else "preflight" for a in ran]
    if installs:
        # The installer printed its one line; the preview itself never started.
        assert result.exit_code == cli.USAGE
        assert names == ["preflight", "install-plugins.sh"]
    else:
        assert result.exit_code == cli.OK
        assert names == ["preflight", "pulumi"]


def test_help_prints_the_exit_codes_as_a_table() -> None:
    from gate.exitcodes import Exit

    result = runner.invoke(cli.app, ["--help"], terminal_width=80)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for code in Exit:  # one line per code, starting with it (click rewrapped them into one)
        assert any(line.strip().startswith(f"{int(code)}  ") for line in lines), result.output
