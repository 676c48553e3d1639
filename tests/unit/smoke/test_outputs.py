"""Loading the outputs contract from a file and from the Pulumi CLI (a fake `pulumi`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from smoke.outputs import REQUIRED, OutputsError, StackOutputs, load_from_file, load_from_stack
from smoke.redact import Redactor
from tests.unit.smoke.helpers import PG_PASSWORD, REDIS_PASSWORD, dead_outputs, run_smoke


def write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(doc))
    return path


def test_file_gives_typed_outputs(tmp_path: Path) -> None:
    outputs = load_from_file(write(tmp_path, dead_outputs(1, 2, 3)))
    assert outputs.database_url.startswith("postgresql://mentora_app:")
    assert outputs.bucket_name == "mentora-videos"
    assert outputs.storage_endpoint == "http://127.0.0.1:3"
    assert outputs.app_url is None
    assert outputs.env["AWS_REGION"] == "us-east-1"
    with pytest.raises(AttributeError):
        outputs.bucket_name = "other"  # type: ignore[misc]


def test_repr_hides_the_secrets(tmp_path: Path) -> None:
    shown = repr(load_from_file(write(tmp_path, dead_outputs(1, 2, 3))))
    assert PG_PASSWORD not in shown and REDIS_PASSWORD not in shown and "env=" not in shown


def test_optional_values_are_normalised(tmp_path: Path) -> None:
    doc = dead_outputs(1, 2, 3, storage_endpoint=None, app_url="http://127.0.0.1:3000/")
    outputs = load_from_file(write(tmp_path, doc))
    assert outputs.storage_endpoint == ""  # AWS's default endpoint
    assert outputs.app_url == "http://127.0.0.1:3000"
    assert load_from_file(write(tmp_path, dead_outputs(1, 2, 3, app_url=""))).app_url is None


@pytest.mark.parametrize("name", REQUIRED)
def test_a_missing_output_is_named_with_its_source(tmp_path: Path, name: str) -> None:
    doc = dead_outputs(1, 2, 3)
    del doc[name]
    path = write(tmp_path, doc)
    with pytest.raises(OutputsError, match=rf"outputs file {path} has no output {name} "):
        load_from_file(path)


def test_a_missing_output_of_a_stack_names_the_stack_and_the_fix() -> None:
    doc = dead_outputs(1, 2, 3)
    del doc["redis_url"], doc["env"]
    with pytest.raises(OutputsError) as info:
        StackOutputs.from_json(doc, "stack 'dev'", "dev")
    assert str(info.value).startswith("stack 'dev' has no output redis_url, env ")
    assert "pulumi up --stack dev" in str(info.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"database_url": 5}, "output database_url is int, not text"),
        ({"database_url": "mysql://u:FakePw@h/db"}, "output database_url is not a postgresql://"),
        ({"redis_url": "127.0.0.1:6379"}, "output redis_url is not a redis:// URL"),
        ({"bucket_name": ""}, "output bucket_name is empty"),
        ({"env": ["x"]}, "output env is not a map"),
        ({"env": {"A": 1}}, "output env is not a map"),
        ({"app_url": 3}, "output app_url is int"),
    ],
)
def test_bad_values_are_named_without_their_value(
    tmp_path: Path, override: dict[str, Any], message: str
) -> None:
    with pytest.raises(OutputsError, match=message) as info:
        load_from_file(write(tmp_path, dead_outputs(1, 2, 3, **override)))
    assert "FakePw" not in str(info.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(OutputsError, match="cannot read outputs file .*No such file"):
        load_from_file(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(OutputsError, match="is not JSON"):
        load_from_file(tmp_path / "bad.json")
    with pytest.raises(OutputsError, match="not a JSON object"):
        load_from_file(write(tmp_path, [1, 2]))


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `pulumi` first on PATH that runs tmp_path/script.sh (write it in the test)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = tmp_path / "script.sh"
    (bin_dir / "pulumi").write_text(f'#!/bin/sh\nexec sh {script} "$@"\n')
    (bin_dir / "pulumi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return script


def test_stack_outputs_come_from_the_cli_in_the_repo_root(
    fake_pulumi: Path, tmp_path: Path
) -> None:
    (tmp_path / "out.json").write_text(json.dumps(dead_outputs(1, 2, 3)))
    fake_pulumi.write_text(f'echo "$PWD $*" > {tmp_path}/argv\ncat {tmp_path}/out.json\n')
    outputs = load_from_stack("dev")
    assert outputs.stack == "dev" and outputs.bucket_name == "mentora-videos"
    cwd, *argv = (tmp_path / "argv").read_text().split()
    assert Path(cwd) == Path(__file__).resolve().parents[3]
    assert argv == ["stack", "output", "--json", "--show-secrets", "--stack", "dev"]


def test_cli_failure_is_redacted_then_cut(fake_pulumi: Path) -> None:
    fake_pulumi.write_text(
        'printf "%0900d" 0 >&2; echo " bad passphrase Hunter2-Secret" >&2\nexit 3\n'
    )
    with pytest.raises(OutputsError) as info:
        load_from_stack("dev", Redactor(["Hunter2-Secret"]))
    message = str(info.value)
    assert "failed (exit 3)" in message and "bad passphrase ***" in message
    assert "Hunter2" not in message and len(message) < 1000


def test_cli_printing_no_json_never_echoes_its_stdout(fake_pulumi: Path) -> None:
    fake_pulumi.write_text('echo "database_url: postgresql://u:LeakyPw@h/db"\n')
    with pytest.raises(OutputsError, match="did not print JSON") as info:
        load_from_stack("dev")
    assert "LeakyPw" not in str(info.value)


def test_cli_timeout_and_absence(fake_pulumi: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pulumi.write_text("sleep 5\n")
    with pytest.raises(OutputsError, match="did not answer within 0.2s"):
        load_from_stack("dev", timeout_s=0.2)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(OutputsError, match="pulumi CLI not found on PATH"):
        load_from_stack("dev")


def test_pytest_reports_a_missing_output_as_a_usage_error(tmp_path: Path) -> None:
    doc = dead_outputs(1, 2, 3)
    del doc["bucket_name"]
    result = run_smoke(tmp_path, "--outputs-file", write(tmp_path, doc))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "has no output bucket_name" in result.stderr
    assert "Traceback" not in result.output and PG_PASSWORD not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "pass exactly one of --stack <name> or --outputs-file"),
        (("--stack", "a", "--outputs-file", "b.json"), "pass exactly one of"),
        (("--outputs-file", "o.json", "--check-timeout", "0"), "--check-timeout must be positive"),
    ],
)
def test_option_mistakes_are_usage_errors(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    write(tmp_path, dead_outputs(1, 2, 3))
    result = run_smoke(tmp_path, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr


def test_help_needs_no_outputs(tmp_path: Path) -> None:
    result = run_smoke(tmp_path, "--help")
    assert result.ret == 0
    assert "--outputs-file" in result.stdout and "--check-timeout" in result.stdout
