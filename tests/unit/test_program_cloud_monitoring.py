"""The cloud program's monitors (issue 24, part 2) under Pulumi mocks: a Checkly API check on the
production `/api/health` from several locations with its alert channels, and the Sentry alert
rules of the app's project.

Sources, the provider's own SDK code (pulumi-checkly 2.14.0, installed in .venv):
- `pulumi_checkly/check.py` `CheckArgs.__init__`: `type` "API", `frequency` in minutes from an
  allowed list, `locations`, `request`, `alert_channel_subscriptions`, `retry_strategy`,
  `degraded_response_time` / `max_response_time` "between 0 and 30000" ms.
- `pulumi_checkly/_inputs.py`: `CheckRequestAssertionArgs` (`source`, `comparison` "Possible
  values ..."), `CheckRetryStrategyArgs.type` "Possible values ...",
  `CheckAlertChannelSubscriptionArgs(channel_id: int, activated)`, `AlertChannelEmailArgs
  (address)`, `AlertChannelWebhookArgs(name, url, method)`.
- `pulumi_checkly/provider.py`: `Provider(account_id, api_key)`.
The mocks receive each resource's inputs as the SDK serialised them (camelCase wire names), so a
wrong keyword fails in the SDK before the mock sees it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_checkly as checkly
import pytest

from components.cloud.health_monitor import HEALTH_SERVICES
from components.cloud.providers import PLUGIN_SERVERS, PLUGIN_VERSIONS
from stacks.config import PROJECT_ROOT
from tests.unit.cloud_program import (
    FAKE_SECRETS,
    CloudMocks,
    Declared,
    all_registered,
    cloud_config,
    options_of,
    record_options,
    start_mocks,
    unwrap,
)
from tests.unit.test_program_cloud import ENV_VAR, run_program

CHECK = "checkly:index/check:Check"
CHANNEL = "checkly:index/alertChannel:AlertChannel"
DYNAMIC = "pulumi-python:dynamic:Resource"


def possible_values(doc: str | None, param: str) -> set[str]:
    """The "Possible values `A`, `B` ..." the SDK's docstring lists for `param`."""
    assert doc is not None
    line = next(x for x in doc.splitlines() if f"] {param}:" in x)
    return set(re.findall(r"`([A-Z][A-Z_0-9]*)`", line.split("Possible values", 1)[1]))


def allowed_frequencies() -> set[int]:
    doc = checkly.CheckArgs.__init__.__doc__ or ""
    line = next(x for x in doc.splitlines() if "] frequency:" in x)
    return {int(v) for v in re.findall(r"`(\d+)`", line)}


def only(mocks: CloudMocks, typ: str) -> Declared:
    (found,) = [d for d in mocks.declared if d.typ == typ]
    return found


def contract_services() -> set[str]:
    """The services of the health body in docs/app-contract.md (its JSON example)."""
    text = (PROJECT_ROOT / "docs" / "app-contract.md").read_text()
    body = text.split("## `GET /api/health`", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    return set(json.loads(body)["services"])


def test_the_check_asserts_every_service_of_the_app_contract() -> None:
    assert set(HEALTH_SERVICES) == contract_services()


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_each_stack_checks_its_production_health_from_several_locations(stack: str) -> Any:
    config = cloud_config(stack)
    assert config.cloud is not None

    def check(mocks: CloudMocks, outputs: dict[str, Any]) -> None:
        health = unwrap(only(mocks, CHECK).inputs)
        assert health["type"] == "API" and health["activated"] is True
        assert health["type"] in possible_values(checkly.CheckArgs.__init__.__doc__, "type")
        assert health["name"] == f"mentora-{stack} /api/health"
        assert health["frequency"] in allowed_frequencies()
        assert health["locations"] == ["us-east-1", "eu-west-1"]
        request = health["request"]
        assert request["url"] == f"{outputs['production_url']}/api/health"
        assert request["url"] == f"{config.cloud.app_url}/api/health"
        assert request["method"] == "GET" and request["followRedirects"] is False
        asserted = {
            (a["source"], a.get("property", ""), a["comparison"], a["target"])
            for a in request["assertions"]
        }
        assert asserted == {
            ("STATUS_CODE", "", "EQUALS", "200"),
            ("JSON_BODY", "$.status", "EQUALS", "healthy"),
            ("JSON_BODY", "$.services.database.healthy", "EQUALS", "true"),
            ("JSON_BODY", "$.services.cache.healthy", "EQUALS", "true"),
        }
        doc = checkly.CheckRequestAssertionArgs.__init__.__doc__
        assert {a["source"] for a in request["assertions"]} <= possible_values(doc, "source")
        assert {a["comparison"] for a in request["assertions"]} <= possible_values(
            doc, "comparison"
        )
        retry = health["retryStrategy"]
        assert retry["type"] in possible_values(
            checkly.CheckRetryStrategyArgs.__init__.__doc__, "type"
        )
        assert retry["sameRegion"] is False
        assert 0 < health["degradedResponseTime"] < health["maxResponseTime"] <= 30000
        opts, _ = options_of(mocks, only(mocks, CHECK).name)
        assert opts.parent is not None

    return run_program(stack, check)


@pulumi.runtime.test
def test_the_check_alerts_the_configured_email_and_secret_webhook() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        channels = {d.name: d for d in mocks.declared if d.typ == CHANNEL}
        assert set(channels) == {"monitor-email", "monitor-webhook"}
        email = unwrap(channels["monitor-email"].inputs)
        assert email["email"] == {"address": "platform@mentora.app"}
        assert email["sendFailure"] is True and email["sendRecovery"] is True
        webhook = unwrap(channels["monitor-webhook"].inputs)
        assert webhook["webhook"]["url"] == FAKE_SECRETS["alertWebhookUrl"]
        assert webhook["webhook"]["method"] == "POST"
        subscriptions = unwrap(only(mocks, CHECK).inputs)["alertChannelSubscriptions"]
        ids = sorted(s["channelId"] for s in subscriptions)
        # channel_id is an int in the SDK (numbers cross the wire as floats): Checkly's own id.
        assert len(ids) == 2 and all(float(i).is_integer() and i > 0 for i in ids)
        assert all(s["activated"] is True for s in subscriptions)

    return run_program("prod", check)


@pulumi.runtime.test
def test_an_email_alone_is_one_channel() -> Any:
    import tests.unit.cloud_program as program

    saved = dict(program.FAKE_SECRETS)
    del program.FAKE_SECRETS["alertWebhookUrl"]

    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        program.FAKE_SECRETS.update(saved)
        assert [d.name for d in mocks.declared if d.typ == CHANNEL] == ["monitor-email"]
        assert len(unwrap(only(mocks, CHECK).inputs)["alertChannelSubscriptions"]) == 1

    try:
        return run_program("dev", check)
    except BaseException:
        program.FAKE_SECRETS.update(saved)
        raise


@pulumi.runtime.test
def test_the_checkly_provider_is_pinned_and_its_credentials_are_secret() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        opts, _ = options_of(mocks, "checkly")
        assert opts.version == PLUGIN_VERSIONS["checkly"] == "2.14.0"
        assert opts.plugin_download_url == PLUGIN_SERVERS["checkly"]
        provider = unwrap(only(mocks, "pulumi:providers:checkly").inputs)
        assert provider["accountId"] == FAKE_SECRETS["checklyAccountId"]
        for name in ("monitor-check", "monitor-email", "monitor-webhook"):
            child_opts, _ = options_of(mocks, name)
            assert child_opts.provider is not None, name

    return run_program("prod", check)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_the_sentry_rules_are_declared_for_the_apps_project(stack: str) -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        (rules,) = [
            d for d in mocks.declared if d.typ == DYNAMIC and d.name == "sentry-alerts-rules"
        ]
        inputs = unwrap(rules.inputs)
        assert (inputs["organization"], inputs["project"]) == ("mentora", "mentora-app")
        assert inputs["name"] == f"mentora-{stack}"
        assert inputs["increase_percent"] == 100
        assert inputs["token"] == FAKE_SECRETS["sentryAlertsToken"]
        assert any(d.typ == "mentora:infra:SentryAlerts" for d in mocks.declared)
        assert any(d.typ == "mentora:infra:HealthMonitor" for d in mocks.declared)

    return run_program(stack, check)


@pulumi.runtime.test
def test_monitoring_credentials_are_secrets_in_the_state() -> Any:
    mocks = start_mocks("prod")
    record_options(mocks)
    from stacks.cloud import build_cloud

    build_cloud(cloud_config("prod"))
    values = {
        "checkly account id": options_of(mocks, "checkly")[1]["account_id"],
        "checkly api key": options_of(mocks, "checkly")[1]["api_key"],
        "webhook url": options_of(mocks, "monitor-webhook")[1]["webhook"].url,
        "sentry token": options_of(mocks, "sentry-alerts-rules")[1]["token"],
    }
    flags = [pulumi.Output.from_input(v).is_secret() for v in values.values()]
    secrecy = pulumi.Output.all(all_registered(mocks), *map(pulumi.Output.from_input, flags))

    def check(done: list[Any]) -> None:
        assert dict(zip(values, done[1:], strict=True)) == dict.fromkeys(values, True)

    return secrecy.apply(check)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_no_monitoring_credential_reaches_the_app_or_the_outputs(stack: str) -> Any:
    keys = ("checklyAccountId", "checklyApiKey", "sentryAlertsToken", "alertWebhookUrl")

    def check(mocks: CloudMocks, outputs: dict[str, Any]) -> None:
        app_env = json.dumps([unwrap(d.inputs) for d in mocks.declared if d.typ == ENV_VAR])
        exported = json.dumps(outputs, default=str)
        for key in keys:
            assert FAKE_SECRETS[key] not in app_env, key
            assert FAKE_SECRETS[key] not in exported, key

    return run_program(stack, check)
