"""Finding 11 of issue 19 (gate and config parts): every bad config exits 2 naming the key and
its fix before pulumi is started, a stack file that is not YAML is named with its line, and
`status`/`release` without `pulumi` on PATH say so with exit 2; no traceback for any of them.
Real gate CLI with the project's own `stacks/` (preflight), fake `pulumi`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.exitcodes import Exit
from tests.unit.gate.fakes import HARNESS, ROOT, Project, make_project

# The cases of tests/integration/test_bad_config.py (8 of 8 exited 1 through the gate before).
BAD_VALUES = [
    ("postgresPort", "'99999'", "less than or equal to 65535"),
    ("redisPort", "'80'", "greater than or equal to 1024"),
    ("appPort", "'-1'", "not a whole number"),
    ("storagePort", "nine thousand", "not a whole number"),
    ("region", "mars-1", "pattern"),
    ("bucketName", "Mentora_Videos", "pattern"),
    ("databaseName", "'drop table x;'", "pattern"),
    ("logLevel", "verbose", "debug"),
    ("nodeEnv", "staging", "development"),
    ("rateLimitChatPerMin", "'0'", "greater than or equal to 1"),
    ("appHealthPath", "health", "pattern"),
    ("target", "aws", "local"),
    ("redisPortt", "'6391'", "did you mean mentora:redisPort?"),
]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = make_project(tmp_path)
    (project.root / "stacks").symlink_to(ROOT / "stacks")  # the program's own config check
    project.commit("pass")
    yield project
    project.stop_leftovers()


def set_stack_file(project: Project, text: str) -> None:
    (project.root / "Pulumi.local.yaml").write_text(text)


@pytest.mark.parametrize(("key", "value", "fragment"), BAD_VALUES)
def test_a_bad_value_exits_2_naming_the_key_before_pulumi_runs(
    project: Project, key: str, value: str, fragment: str
) -> None:
    set_stack_file(project, f"config:\n  mentora:target: local\n  mentora:{key}: {value}\n")
    code, output = project.gate("up", "local")
    assert code == Exit.USAGE, output
    assert f"mentora:{key}" in output and fragment in output
    assert "nothing was changed" in output and "Traceback" not in output
    assert project.log() == []  # pulumi never ran: no refresh, no update


def test_a_stack_file_that_is_not_yaml_is_named_with_its_line(project: Project) -> None:
    set_stack_file(project, "config:\n  mentora:target: [local\n")
    for command in (["up", "local"], ["preview", "local"], ["destroy", "local"]):
        code, output = project.gate(*command)
        assert code == Exit.USAGE, output
        assert "Pulumi.local.yaml" in output and "line " in output, output
        assert "Traceback" not in output
    assert project.log() == []


@pytest.mark.parametrize("command", ["status", "release", "up"])
def test_no_pulumi_on_path_is_named_with_exit_2(project: Project, command: str) -> None:
    env = dict(os.environ, PATH="/usr/bin:/bin", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", HARNESS, str(project.root), command, "local"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == Exit.USAGE, output
    assert "pulumi CLI not on PATH" in output and "Traceback" not in output


def test_the_shipped_stack_files_pass_the_check() -> None:
    for stack in ("local", "dev", "prod"):
        done = subprocess.run(
            [sys.executable, "-m", "stacks.preflight", stack],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
