"""A deployed app is watched: every stack with a Vercel project has a health check that can alert.

The check must be a Checkly API check on `/api/health` that is activated, runs from at least two
locations (one location's network trouble is not the app's) and is subscribed to at least one
activated alert channel (a check nobody hears of is not monitoring). Local stacks have no Vercel
project and are not checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from policy.props import UNKNOWN, StackResource, is_true, items, prop

VERCEL_PROJECT: Final = "vercel:index/project:Project"
CHECKLY_CHECK: Final = "checkly:index/check:Check"
HEALTH_PATH: Final = "/api/health"


def _problems(check: StackResource) -> list[str]:
    props = check.props
    url = prop(props, "request", "url")
    problems = []
    if url is not UNKNOWN and not (isinstance(url, str) and url.endswith(HEALTH_PATH)):
        problems.append(f"does not request {HEALTH_PATH}")
    if prop(props, "type") != "API" or not is_true(prop(props, "activated")):
        problems.append("is not an activated API check")
    locations = [loc for loc in items(prop(props, "locations")) if loc is not UNKNOWN]
    if len(set(locations)) < 2 and UNKNOWN not in items(prop(props, "locations")):
        problems.append(f"runs from {len(set(locations))} location(s), not at least two")
    subscriptions = items(prop(props, "alertChannelSubscriptions"))
    if not any(s is UNKNOWN or is_true(prop(s, "activated")) for s in subscriptions):
        problems.append("alerts no channel")
    return problems


def check_deployments_monitored(resources: Sequence[StackResource]) -> list[tuple[str, str]]:
    """(message, urn) for a stack that deploys the app but has no sound health check."""
    projects = [r for r in resources if r.resource_type == VERCEL_PROJECT]
    if not projects:
        return []
    checks = [r for r in resources if r.resource_type == CHECKLY_CHECK]
    if any(not _problems(c) for c in checks):
        return []
    found = "; ".join(f"check '{c.name}' {', '.join(_problems(c))}" for c in checks)
    return [
        (
            f"Vercel project '{project.name}' is deployed but not monitored"
            f"{': ' + found if found else ' (no Checkly check)'}. Fix: declare HealthMonitor "
            "(components/cloud/health_monitor.py) with two or more mentora:monitorLocations and "
            "mentora:alertEmail or the secret mentora:alertWebhookUrl.",
            project.urn,
        )
        for project in projects
    ]
