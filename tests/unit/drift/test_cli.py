"""`mentora-infra drift` end to end against a fake `pulumi` that answers as the real CLI
(v3.274.1) does: a streamed refresh preview only with PULUMI_ENABLE_STREAMING_JSON_PREVIEW=1,
"--yes and --preview-only cannot be used together" when PULUMI_SKIP_CONFIRMATIONS is set (as
scripts/env.sh sets it), the file backend's lock message when another update runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gate.exitcodes import Exit
from gate.lock import gate_lock
from tests.unit.drift.events import outputs_event, redis_outputs, stream
from tests.unit.gate.fakes import Project, make_project

FAKE_PULUMI = r"""#!/usr/bin/env python3
import os, pathlib, sys
state = pathlib.Path(os.environ["FAKE_PULUMI_STATE"])
with open(state / "log", "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\n")
if sys.argv[1:3] != ["refresh", "--preview-only"]:
    sys.exit(f"fake pulumi: unexpected {sys.argv[1:]}")
if os.environ.get("PULUMI_SKIP_CONFIRMATIONS") == "true":
    sys.exit("error: --yes and --preview-only cannot be used together")
mode = (state / "mode").read_text().strip()
if mode == "locked":
    sys.exit("error: the stack is currently locked by 1 lock(s). Either wait for the other "
             "process(es) to end or delete the lock file with `pulumi cancel`.")
if mode == "slow":
    import time
    time.sleep(30)
if mode == "nostack":
    sys.exit("error: no stack named 'local' found")
if mode == "broken":
    sys.exit("error: failed to decrypt: incorrect passphrase")
if os.environ.get("PULUMI_ENABLE_STREAMING_JSON_PREVIEW") != "1":
    print('{"steps": [], "changeSummary": {"update": 1}}')
    sys.exit(0)
print((state / mode).read_text(), end="")
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    (project.bin / "pulumi").write_text(FAKE_PULUMI)
    clean = stream(outputs_event("cache-server", redis_outputs(), redis_outputs(), op="same"))
    drifted = stream(
        outputs_event("cache-server", redis_outputs(), redis_outputs(maxmemory="536870912"))
    )
    (project.state / "clean").write_text(clean)
    (project.state / "drifted").write_text(drifted)
    return project


def run(project: Project, mode: str, *args: str) -> tuple[int, str]:
    (project.state / "mode").write_text(mode)
    os.environ["PULUMI_SKIP_CONFIRMATIONS"] = "true"  # as scripts/env.sh exports it
    try:
        return project.gate("drift", "local", *args, timeout=60)
    finally:
        os.environ.pop("PULUMI_SKIP_CONFIRMATIONS", None)


def test_a_clean_stack_exits_0_and_says_so(project: Project, tmp_path: Path) -> None:
    code, output = run(project, "clean", "--json", str(tmp_path / "r.json"))
    assert code == Exit.GREEN, output
    assert "local: no drift" in output
    assert json.loads((tmp_path / "r.json").read_text())["drifted"] is False
    assert project.log() == ["refresh --preview-only --json --non-interactive --stack local"]


def test_drift_exits_7_with_the_table_and_the_json(project: Project, tmp_path: Path) -> None:
    code, output = run(project, "drifted", "--json", str(tmp_path / "r.json"))
    assert code == Exit.DRIFT == 6, output
    assert "cache-server  maxmemory  268435456  536870912" in output
    assert json.loads((tmp_path / "r.json").read_text())["drift"][0]["actual"] == "536870912"


def test_another_gate_holding_the_stack_is_busy_and_pulumi_is_not_run(project: Project) -> None:
    with gate_lock("local", project.root):
        code, output = run(project, "clean")
    assert code == Exit.BUSY, output
    assert "another gate is running" in output and project.log() == []


def test_lock_wait_is_bounded(project: Project) -> None:
    with gate_lock("local", project.root):
        code, output = run(project, "clean", "--lock-wait", "0.5")
    assert code == Exit.BUSY, output


def test_pulumis_own_lock_is_busy_too(project: Project) -> None:
    code, output = run(project, "locked")
    assert code == Exit.BUSY, output
    assert "Pulumi's lock on the stack is held" in output


def test_a_pulumi_failure_is_an_error_naming_its_message(project: Project) -> None:
    code, output = run(project, "broken")
    assert code == Exit.FAILED, output
    assert "incorrect passphrase" in output


def test_a_bad_stack_file_is_bad_input_before_pulumi_runs(project: Project) -> None:
    (project.root / "Pulumi.local.yaml").write_text("config: [unclosed\n")
    code, output = run(project, "clean")
    assert code == Exit.USAGE, output
    assert "Pulumi.local.yaml" in output and project.log() == []


def test_the_refresh_preview_is_bounded(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from drift import cli as drift_cli
    from gate.ledger import LedgerError

    (project.state / "mode").write_text("slow")
    monkeypatch.setenv("PATH", f"{project.bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_STATE", str(project.state))
    monkeypatch.setattr(drift_cli, "REFRESH_TIMEOUT_S", 0.5)
    with pytest.raises(LedgerError, match=r"did not answer within 0.5s"):
        drift_cli.find("local", project.root)


def test_an_unknown_stack_is_bad_input_naming_the_fix(project: Project) -> None:
    code, output = run(project, "nostack")
    assert code == Exit.USAGE, output
    assert "no stack named 'local' found" in output and "pulumi stack ls" in output
