"""A stack that deploys the app has a health check that can alert (policy/monitoring.py).

Props are the Checkly check's wire names (pulumi_checkly 2.14.0 `check.py`:
`alertChannelSubscriptions`, `locations`, `request.url`, `type`, `activated`).
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.monitoring import check_deployments_monitored
from tests.unit.policy.conftest import resource

PROJECT = resource("vercel:index/project:Project", "app-project", {"name": "mentora"})
GOOD: dict[str, Any] = {
    "type": "API",
    "activated": True,
    "locations": ["us-east-1", "eu-west-1"],
    "request": {"url": "https://mentora.app/api/health"},
    "alertChannelSubscriptions": [{"channelId": 1001, "activated": True}],
}


def check(**changes: Any) -> PolicyResource:
    return resource("checkly:index/check:Check", "monitor-check", {**GOOD, **changes})


def test_a_sound_health_check_passes() -> None:
    assert check_deployments_monitored([PROJECT, check()]) == []


def test_a_stack_without_a_deployment_is_not_checked() -> None:
    assert check_deployments_monitored([check(locations=[])]) == []
    assert check_deployments_monitored([]) == []


def test_a_deployed_app_without_a_check_is_rejected_naming_the_fix() -> None:
    [(message, urn)] = check_deployments_monitored([PROJECT])
    assert urn == PROJECT.urn
    assert "'app-project' is deployed but not monitored (no Checkly check)" in message
    assert "HealthMonitor" in message and "mentora:monitorLocations" in message


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"locations": ["us-east-1"]}, "runs from 1 location(s)"),
        ({"locations": ["us-east-1", "us-east-1"]}, "runs from 1 location(s)"),
        ({"alertChannelSubscriptions": []}, "alerts no channel"),
        (
            {"alertChannelSubscriptions": [{"channelId": 1, "activated": False}]},
            "alerts no channel",
        ),
        ({"activated": False}, "not an activated API check"),
        ({"type": "BROWSER"}, "not an activated API check"),
        ({"request": {"url": "https://mentora.app/"}}, "does not request /api/health"),
    ],
)
def test_a_weak_check_is_rejected(changes: dict[str, Any], fragment: str) -> None:
    [(message, _)] = check_deployments_monitored([PROJECT, check(**changes)])
    assert "check 'monitor-check'" in message and fragment in message


def test_values_unknown_in_preview_do_not_fail_the_check() -> None:
    unknown = check(request={"url": UNKNOWN_STRING_VALUE})
    assert check_deployments_monitored([PROJECT, unknown]) == []
