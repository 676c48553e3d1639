"""Errors: an exception the app captures with sentry-sdk (`/api/test-sentry`) arrives in the
tracker and is found there by its event id (Bugsink's API locally, Sentry's on cloud). A stack
without an app sends the test event with sentry-sdk itself (its SENTRY_DSN).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from smoke.checks import check
from smoke.checks.common import (
    Recorder,
    fail_if_dependency_down,
    unreachable,
    watching,
    while_watching,
)
from smoke.clients import errors_api
from smoke.failures import CheckFailed
from smoke.outputs import StackOutputs

ARRIVAL_DEADLINE_S = 10.0
NAMES = (
    "SENTRY_DSN",
    "SENTRY_API_URL",
    "SENTRY_AUTH_TOKEN",
    "SENTRY_READ_TOKEN",
    "SENTRY_ORG",
    "SENTRY_PROJECT",
)


def settings(outputs: StackOutputs) -> Mapping[str, str]:
    """The stack's env and its smoke-only secrets, then the caller's environment for names they
    lack (CI secrets)."""
    caller = {k: os.environ[k] for k in NAMES if os.environ.get(k)}
    return {**caller, **outputs.env, **outputs.smoke_env}


def tracker_answers(
    client: Any, target: errors_api.TrackerTarget, timeout_s: float, outputs: StackOutputs
) -> None:
    """Ask the tracker's API for an event that does not exist (404), within one timeout, before
    anything is sent to it: a hung tracker is named at once instead of after the app's flush
    and the first read of the arrival loop have each waited for it."""
    import httpx

    url, params = target.event_request("0" * 32)
    api = f"{target.kind}'s API"
    try:
        client.get(url, params=params, headers=target.headers(), timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise unreachable("errors", api, target.api_url, exc, outputs) from None


def send_with_sdk(dsn: str, tag: str, timeout_s: float) -> str:
    """One test event straight to the DSN with sentry-sdk (its own client, flushed)."""
    import sentry_sdk

    client = sentry_sdk.Client(dsn=dsn, default_integrations=False, shutdown_timeout=timeout_s)
    try:
        with sentry_sdk.new_scope() as scope:
            scope.set_client(client)
            scope.set_tag("smoke_run", tag)
            event_id = sentry_sdk.capture_message("mentora smoke test event", level="error")
        client.flush(timeout=timeout_s)
    finally:
        client.close()
    if not event_id:
        raise errors_api.ErrorsError("errors: sentry-sdk dropped the test event")
    return event_id


@check(writes=True)
def test_test_error_arrives_in_the_tracker(
    outputs: StackOutputs,
    check: Recorder,
    timeout_s: float,
    run_id: str,
) -> None:
    import httpx

    env = settings(outputs)
    try:
        target = errors_api.TrackerTarget.from_env(env)
    except errors_api.ErrorsConfigError as exc:
        raise CheckFailed(str(exc)) from None
    needs = {"the app": outputs.app_url or ""}
    fail_if_dependency_down("errors", "a test error", needs, outputs)
    sleep = watching("errors", "a test error", needs, outputs)
    tag = f"smoke-{run_id}"
    url, _ = target.event_request("<event>")
    with check.timed(url), httpx.Client(timeout=timeout_s + 2) as client:
        tracker_answers(client, target, timeout_s, outputs)
        try:
            if outputs.app_url:
                # A serverless app may first cold-start.
                budget = timeout_s if outputs.is_local else timeout_s + 2
                app_url = outputs.app_url
                event_id = while_watching(
                    lambda: errors_api.trigger_test_error(client, app_url, tag, budget),
                    "errors", "a test error", needs, outputs,
                )  # fmt: skip
            elif env.get("SENTRY_DSN"):
                event_id = send_with_sdk(env["SENTRY_DSN"], tag, timeout_s)
            else:
                raise CheckFailed("errors: the stack has no app and no SENTRY_DSN to send with")
            event, polls = errors_api.wait_for_event(
                client, target, event_id, ARRIVAL_DEADLINE_S, sleep=sleep
            )
        except errors_api.ErrorsError as exc:
            raise CheckFailed(str(exc)) from None
    check.attempts = polls
    check.record("event_id", event_id)  # junit and --json-report consumers see it too
    seen = f"errors: event {event_id} arrived in {target.kind} ({polls} reads)"
    check.record("seen", seen)  # printed above the smoke summary
    assert errors_api.stored_id(event) == event_id
