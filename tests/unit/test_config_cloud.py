"""Cloud stack config: bad settings and missing or plain-text secrets are named with their fix."""

from __future__ import annotations

import runpy
from typing import Any

import pulumi
import pytest

from stacks.cloud_settings import CLOUD_SECRETS, OPTIONAL_SECRETS
from stacks.config import PROJECT_ROOT, parse_stack_config
from stacks.errors import ConfigError
from tests.unit.cloud_program import FAKE_SECRETS, stack_file, start_mocks


def problems_of(stack: str, overrides: dict[str, str], **kw: Any) -> list[str]:
    secrets = kw.get("secrets", FAKE_SECRETS)
    encrypted = kw.get("encrypted", dict.fromkeys(CLOUD_SECRETS, True))
    with pytest.raises(ConfigError) as info:
        parse_stack_config(stack, {**stack_file(stack), **overrides}, secrets, encrypted)
    assert "nothing was changed" in str(info.value)
    return info.value.problems


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("region", "us-east-2", "not a region where Supabase, Upstash and S3"),
        ("region", "mars-1", "pattern"),
        ("supabaseInstanceSize", "huge", "micro"),
        ("supabaseAllowedCidrs", "10.0.0.1/8", "not a network"),
        ("supabasePitrDays", "3", "one of 0, 7, 14, 28"),
        ("supabasePitrDays", "-7", "not a whole number"),
        ("upstashEmail", "platform", "pattern"),
        ("gitRepository", "mentora", "pattern"),
        ("domains", "mentora.app,not a host", "not DNS host names"),
        ("appUrl", "http://mentora.app", "https://"),
        ("appUrl", "https://mentora.app/home", "without a path"),
        ("rateLimitChatPerMin", "-5", "not a whole number"),
        ("rateLimitChatPerMin", "0", "greater than or equal to 1"),
        ("bucketName", "Videos!", "pattern"),
        ("monitorLocations", "us-east-1", "at least two different locations"),
        ("monitorLocations", "us-east-1,us-east-1", "at least two different locations"),
        ("monitorLocations", "us-east-1,Frankfurt", "not location names"),
        ("alertEmail", "platform", "pattern"),
        ("sentrySpikePercent", "5", "10-1000"),
    ],
)
def test_bad_cloud_setting_names_the_key_and_the_fix(key: str, value: str, fragment: str) -> None:
    problems = problems_of("dev", {key: value})
    assert len(problems) == 1, problems
    assert f"mentora:{key}" in problems[0] and fragment in problems[0]
    assert "-s dev" in problems[0]


@pytest.mark.parametrize("key", ["supabaseOrganization", "upstashEmail", "appUrl"])
def test_required_cloud_setting_left_at_its_empty_default_is_named(key: str) -> None:
    (problem,) = problems_of("dev", {key: ""})
    assert problem.startswith(f"mentora:{key}=<unset>: is required for cloud stacks")


@pytest.mark.parametrize("key", ["sentryOrg", "sentryProject"])
def test_the_sentry_project_the_alert_rules_go_to_is_required(key: str) -> None:
    (problem,) = problems_of("dev", {key: ""})
    assert problem.startswith(f"mentora:{key}=<unset>: is required for cloud stacks")
    assert f"pulumi config set mentora:{key} <value> -s dev" in problem


def test_the_health_check_needs_an_alert_channel() -> None:
    secrets = {k: v for k, v in FAKE_SECRETS.items() if k != "alertWebhookUrl"}
    (problem,) = problems_of("prod", {"alertEmail": ""}, secrets=secrets)
    assert problem.startswith("mentora:alertEmail=<unset>: the health check needs an alert")
    assert "pulumi config set mentora:alertEmail <address> -s prod" in problem
    assert "pulumi config set --secret mentora:alertWebhookUrl <https url> -s prod" in problem


@pytest.mark.parametrize("drop", ["alertEmail", "alertWebhookUrl"])
def test_either_alert_channel_is_enough(drop: str) -> None:
    secrets = {k: v for k, v in FAKE_SECRETS.items() if k != drop}
    overrides = {"alertEmail": ""} if drop == "alertEmail" else {}
    encrypted = dict.fromkeys(CLOUD_SECRETS, True)
    raw = {**stack_file("prod"), **overrides}
    config = parse_stack_config("prod", raw, secrets, encrypted)
    assert config.cloud is not None


def test_a_webhook_url_in_plain_text_or_not_https_is_refused_unseen() -> None:
    encrypted = {**dict.fromkeys(CLOUD_SECRETS, True), "alertWebhookUrl": False}
    (plain,) = problems_of("dev", {}, encrypted=encrypted)
    assert "plain text" in plain and "--secret mentora:alertWebhookUrl" in plain
    url = "http://hooks.example.com/t0ken-abc"
    (bad,) = problems_of("dev", {}, secrets={**FAKE_SECRETS, "alertWebhookUrl": url})
    assert "mentora:alertWebhookUrl" in bad and "https://" in bad and url not in bad


def test_prod_must_be_hardened() -> None:
    (problem,) = problems_of("prod", {"hardened": "false"})
    assert "pulumi config set mentora:hardened true -s prod" in problem


def test_pitr_on_the_free_size_is_refused() -> None:
    (problem,) = problems_of("prod", {"supabaseInstanceSize": "nano"})
    assert "mentora:supabasePitrDays" in problem


@pytest.mark.parametrize("key", [k for k in CLOUD_SECRETS if k not in OPTIONAL_SECRETS])
def test_each_missing_secret_names_the_exact_command(key: str) -> None:
    secrets = {k: v for k, v in FAKE_SECRETS.items() if k != key}
    (problem,) = problems_of("prod", {}, secrets=secrets)
    assert f"pulumi config set --secret mentora:{key} <value> -s prod" in problem


def test_a_secret_stored_in_plain_text_is_refused_without_echoing_it() -> None:
    encrypted = {**dict.fromkeys(CLOUD_SECRETS, True), "openaiApiKey": False}
    (problem,) = problems_of("dev", {}, encrypted=encrypted)
    assert "plain text" in problem and "--secret mentora:openaiApiKey" in problem
    assert FAKE_SECRETS["openaiApiKey"] not in problem


def test_a_malformed_secret_is_named_but_never_shown() -> None:
    (problem,) = problems_of("dev", {}, secrets={**FAKE_SECRETS, "sentryDsn": "not-a-dsn-xyz"})
    assert "mentora:sentryDsn" in problem and "not-a-dsn-xyz" not in problem


def test_secrets_are_masked_in_the_config_repr() -> None:
    config = parse_stack_config(
        "dev", stack_file("dev"), FAKE_SECRETS, dict.fromkeys(CLOUD_SECRETS, True)
    )
    assert all(value not in repr(config) for value in FAKE_SECRETS.values())


@pulumi.runtime.test
def test_the_program_stops_before_registering_anything_when_a_secret_is_missing() -> None:
    problems = program_problems(missing="whopWebhookSecret")
    assert problems == [
        "mentora:whopWebhookSecret: is required for cloud stacks (the value of "
        "WHOP_WEBHOOK_SECRET); run: pulumi config set --secret mentora:whopWebhookSecret "
        "<value> -s prod"
    ]


@pytest.mark.parametrize("key", ["checklyApiKey", "checklyAccountId", "sentryAlertsToken"])
@pulumi.runtime.test
def test_a_missing_monitoring_credential_stops_the_program_naming_its_fix(key: str) -> None:
    (problem,) = program_problems(missing=key)
    assert problem.startswith(f"mentora:{key}: is required for cloud stacks (")
    assert problem.endswith(f"run: pulumi config set --secret mentora:{key} <value> -s prod")


def program_problems(missing: str) -> list[str]:
    """Run stacks/__main__.py for prod under mocks with every secret but `missing` set: the
    ConfigError's problems (and nothing registered)."""
    mocks = start_mocks("prod")
    config = {f"mentora:{k}": v for k, v in stack_file("prod").items()}
    present = {k: v for k, v in FAKE_SECRETS.items() if k != missing}
    config |= {f"mentora:{k}": v for k, v in present.items()}
    pulumi.runtime.set_all_config(config, secret_keys=[f"mentora:{k}" for k in present])

    try:
        with pytest.raises(ConfigError) as info:
            runpy.run_path(str(PROJECT_ROOT / "stacks" / "__main__.py"))
    finally:
        pulumi.runtime.set_all_config({}, secret_keys=[])
    assert mocks.declared == []
    return list(info.value.problems)
