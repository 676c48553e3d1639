"""Checks that leak secrets every way a check can (assertion introspection, driver errors that
quote the DSN, print, logging, warnings, --showlocals): nothing reaches terminal or junit."""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.unit.smoke.helpers import FAKE_SECRETS, SMOKE_DIR, dead_outputs, free_port, leaked

pytest_plugins = ["pytester"]

ODD_PASSWORD = "p@ss/w:rd-Odd9"  # percent-encoded in the URL, decoded in driver messages
ODD_ENCODED = "p%40ss%2Fw%3Ard-Odd9"

LEAKY_CHECKS = """
import logging
import warnings

import psycopg


def test_assertion_shows_both_sides(outputs):
    assert outputs.redis_url == "redis://elsewhere:6379"


def test_driver_error_quotes_the_dsn(outputs):
    raise psycopg.OperationalError(
        f"connection to {outputs.database_url} failed: FATAL: password authentication failed"
    )


def test_print_log_and_warn(outputs):
    print("env is", outputs.env)
    logging.getLogger("botocore.auth").warning(
        "Credential=%s secret=%s", outputs.env["AWS_ACCESS_KEY_ID"],
        outputs.env["AWS_SECRET_ACCESS_KEY"],
    )
    warnings.warn(f"service role key {outputs.env['SUPABASE_SERVICE_ROLE_KEY']}")
    assert False, "see the captured output"


def test_locals_in_traceback(outputs):
    dsn = outputs.database_url
    password = dsn.split(":")[2].split("@")[0]
    odd = "ODD"
    raise RuntimeError(f"boom {odd}")


def test_odd_password_decoded(outputs):
    from urllib.parse import unquote, urlsplit

    raise ValueError(f"redis AUTH failed for {unquote(urlsplit(outputs.redis_url).password)}")


def test_fixture_error_repr(outputs):
    raise KeyError(outputs.env)
""".replace("ODD", ODD_PASSWORD)


def test_no_secret_reaches_terminal_or_junit(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "from smoke.conftest import pytest_addoption  # noqa: F401\n"
        'pytest_plugins = ["smoke.plugin"]\n'
    )
    pytester.makepyfile(test_leaky=LEAKY_CHECKS)
    outputs = dead_outputs(free_port(), free_port(), free_port())
    outputs["redis_url"] = f"redis://default:{ODD_ENCODED}@127.0.0.1:{free_port()}/0"
    path = pytester.path / "outputs.json"
    path.write_text(json.dumps(outputs))
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        "--outputs-file",
        str(path),
        "--junitxml",
        str(junit),
        "-o",
        "junit_logging=all",
        "--showlocals",
        "-vv",
        "-rA",
        "--log-cli-level=WARNING",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(failed=6)
    out = result.stdout.str() + result.stderr.str()
    secrets = (*FAKE_SECRETS, ODD_PASSWORD, ODD_ENCODED)
    assert not leaked(out, secrets), f"secret on the terminal: {leaked(out, secrets)}"
    xml = junit.read_text()
    ElementTree.fromstring(xml)
    assert not leaked(xml, secrets), f"secret in junit: {leaked(xml, secrets)}"
    # Masked, not dropped: the reader still sees what failed and where.
    assert "connection to postgresql://***@127.0.0.1:" in out
    assert "Credential=*** secret=***" in out
    assert "service role key ***" in out
    assert "redis AUTH failed for ***" in out


def test_pulumi_error_is_a_redacted_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        'echo "error: decrypting: passphrase $PULUMI_CONFIG_PASSPHRASE is wrong for '
        'postgresql://admin:AdminPw-123456@10.0.0.1/db" >&2\nexit 255\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "CorrectHorseBattery")
    result = pytester.runpytest_subprocess(
        str(SMOKE_DIR), "--stack", "dev", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "`pulumi stack output --stack dev` failed (exit 255)" in err
    assert "passphrase *** is wrong for postgresql://***@10.0.0.1/db" in err
    assert not leaked(err + result.stdout.str(), ("CorrectHorseBattery", "AdminPw-123456"))
    assert "Traceback" not in err
