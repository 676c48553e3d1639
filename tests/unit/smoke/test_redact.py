"""redact_url, the Redactor and report rewriting, without running pytest."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from smoke.redact import (
    MASK,
    RedactedRepr,
    Redactor,
    is_secret_name,
    redact_report,
    redact_url,
    url_secrets,
)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:pw@127.0.0.1:54322/mentora", "postgresql://***@127.0.0.1:54322/mentora"),
        ("redis://:pw@127.0.0.1:6390/0", "redis://***@127.0.0.1:6390/0"),
        ("rediss://default:tok@eu1.upstash.io:6379", "rediss://***@eu1.upstash.io:6379"),
        ("postgresql://u:p@ss@h:5432/db", "postgresql://***@h:5432/db"),  # unencoded @
        ("redis://127.0.0.1:6390/0", "redis://127.0.0.1:6390/0"),
        ("see admin@example.com and http://h/x", "see admin@example.com and http://h/x"),
        ("a postgres://u:p@h/d, b redis://:q@r:1", "a postgres://***@h/d, b redis://***@r:1"),
    ],
)
def test_redact_url_strips_userinfo_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "name",
    [
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "SUPABASE_SERVICE_ROLE_KEY",
        "INNGEST_SIGNING_KEY",
        "REDIS_TOKEN",
        "SENTRY_DSN",
        "DATABASE_URL",
        "REDIS_URL",
        "DB_PASSWORD",
        "PULUMI_CONFIG_PASSPHRASE",
        "OPENAI_API_KEY",
        "NEXTAUTH_SECRET",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["AWS_REGION", "AWS_S3_BUCKET", "NODE_ENV", "PULUMI_CONFIG_PASSPHRASE_FILE", "LOG_LEVEL"],
)
def test_not_secret_names(name: str) -> None:
    assert not is_secret_name(name)


def test_url_secrets_are_the_password_as_written_and_decoded() -> None:
    assert url_secrets("redis://default:p%40ss%2Fw@h:1") == ["p%40ss%2Fw", "p@ss/w"]
    assert url_secrets("postgresql://mentora_app:pw12@h/db") == ["pw12"]  # the user is no secret
    assert url_secrets("https://tok3n-abc@api.example.com") == ["tok3n-abc"]
    assert url_secrets("http://[broken") == []


def test_redactor_masks_urls_passwords_and_secret_env_values() -> None:
    url = "postgresql://mentora_app:Pg-Secret-1@127.0.0.1:54322/mentora"
    redact = Redactor([url])
    redact.add_env(
        {
            "AWS_SECRET_ACCESS_KEY": "aws/Secret+Key",
            "AWS_REGION": "us-east-1",
            "NEXT_PUBLIC_APP_URL": "http://u:UrlPw-77@app.local",
        }
    )
    text = redact(f"dsn {url}; pw Pg-Secret-1; key aws/Secret+Key in us-east-1; UrlPw-77")
    assert text == (
        "dsn postgresql://***@127.0.0.1:54322/mentora; pw ***; key *** in us-east-1; ***"
    )
    assert "Pg-Secret-1" in redact and "us-east-1" not in redact


def test_redactor_ignores_empty_and_tiny_values() -> None:
    redact = Redactor(["", "0", "ab"])
    assert len(redact) == 0
    assert redact("0 ab") == "0 ab"


def test_longest_secret_wins_when_secrets_overlap() -> None:
    redact = Redactor(["abcd", "abcdefgh"])
    assert redact("abcdefgh abcd") == f"{MASK} {MASK}"


def test_redact_report_masks_longrepr_sections_and_properties() -> None:
    redact = Redactor(["TopSecret-1"])
    skip = SimpleNamespace(
        longrepr=("f.py", 3, "Skipped: TopSecret-1"),
        sections=[("Captured stdout call", "x TopSecret-1")],
        user_properties=[("target", "TopSecret-1"), ("n", 1)],
    )
    redact_report(skip, redact)
    assert skip.longrepr == ("f.py", 3, "Skipped: ***")
    assert skip.sections == [("Captured stdout call", "x ***")]
    assert skip.user_properties == [("target", "***"), ("n", 1)]

    text = SimpleNamespace(longrepr="E  TopSecret-1", sections=[])
    redact_report(text, redact)
    assert text.longrepr == "E  ***"


def test_redact_report_replaces_a_rendered_repr_keeping_the_crash_line() -> None:
    redact = Redactor(["TopSecret-1"])
    crash = SimpleNamespace(path="/x/test_a.py", lineno=7, message="ValueError: TopSecret-1")
    report = SimpleNamespace(
        longrepr=SimpleNamespace(reprcrash=crash),
        longreprtext="def test():\nE   ValueError: TopSecret-1",
        sections=[],
    )
    redact_report(report, redact)
    assert isinstance(report.longrepr, RedactedRepr)
    assert str(report.longrepr) == "def test():\nE   ValueError: ***"
    assert report.longrepr.reprcrash is not None
    assert report.longrepr.reprcrash.message == "ValueError: ***"
    lines: list[tuple[str, bool]] = []
    report.longrepr.toterminal(SimpleNamespace(line=lambda s, red, bold: lines.append((s, red))))
    assert lines == [("def test():", False), ("E   ValueError: ***", True)]


def test_redact_report_keeps_a_clean_repr_untouched() -> None:
    original = SimpleNamespace(reprcrash=SimpleNamespace(message="AssertionError: 1 == 2"))
    report = SimpleNamespace(longrepr=original, longreprtext="E  1 == 2", sections=[])
    redact_report(report, Redactor(["TopSecret-1"]))
    assert report.longrepr is original  # colours and structure stay pytest's own


def test_a_shell_environment_needs_longer_values() -> None:
    redact = Redactor()
    redact.add_env({"FEATURE_TOKEN": "true", "PULUMI_ACCESS_TOKEN": "pul-0123456789"}, min_len=8)
    assert redact("true pul-0123456789") == "true ***"
