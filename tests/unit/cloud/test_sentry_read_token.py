"""The errors check's Sentry token (issue 20, item 3): a smoke-only read token, a Pulumi secret
that never enters the app's env.

Source: Sentry's API docs, "Retrieve an Event for a Project"
(`GET /api/0/projects/{org}/{project}/events/{event_id}/`) needs scope `project:read`
(docs.sentry.io/api/events/retrieve-an-event-for-a-project/); organization auth tokens can only
hold `org:ci` (docs.sentry.io/account/auth-tokens/#organization-tokens), so the app's
`SENTRY_AUTH_TOKEN` (an org token for source maps) is answered 403: a user auth token or an
internal integration's token with `project:read` is needed.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pulumi
import pytest

from smoke.clients import errors_api
from tests.unit.cloud_program import FAKE_SECRETS, CloudMocks, unwrap
from tests.unit.test_program_cloud import ENV_VAR, run_program

pytest_plugins = ["pytester"]

SENTRY_ENV = {
    "SENTRY_AUTH_TOKEN": "sntrys_org_ci_token",
    "SENTRY_READ_TOKEN": "sntryu_project_read_token",
    "SENTRY_ORG": "mentora",
    "SENTRY_PROJECT": "mentora-app",
}


def test_sentry_events_are_read_with_the_read_token() -> None:
    target = errors_api.TrackerTarget.from_env(SENTRY_ENV)
    seen: list[httpx.Request] = []

    def sentry(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"eventID": "ab" * 16})

    with httpx.Client(transport=httpx.MockTransport(sentry)) as client:
        errors_api.fetch_event(client, target, "ab" * 16)
    assert seen[0].headers["authorization"] == "Bearer sntryu_project_read_token"


def test_a_sentry_target_without_a_read_token_names_the_scope_and_the_setting() -> None:
    env = {k: v for k, v in SENTRY_ENV.items() if k != "SENTRY_READ_TOKEN"}
    with pytest.raises(errors_api.ErrorsConfigError) as caught:
        errors_api.TrackerTarget.from_env(env)
    message = str(caught.value)
    assert "project:read" in message and "mentora:sentryReadToken" in message
    assert "event:read" not in message


def test_a_refused_read_token_names_the_scope_it_needs() -> None:
    target = errors_api.TrackerTarget.from_env(SENTRY_ENV)
    refuse = httpx.MockTransport(lambda request: httpx.Response(403, json={}))
    with httpx.Client(transport=refuse) as client, pytest.raises(errors_api.ErrorsError) as caught:
        errors_api.fetch_event(client, target, "ab" * 16)
    assert "project:read" in str(caught.value) and "event:read" not in str(caught.value)


@pulumi.runtime.test
def test_the_read_token_is_a_smoke_output_never_in_the_apps_env() -> Any:
    token = FAKE_SECRETS["sentryReadToken"]

    def check(mocks: CloudMocks, outputs: dict[str, Any]) -> None:
        values = [unwrap(d.inputs["value"]) for d in mocks.declared if d.typ == ENV_VAR]
        assert token not in values
        assert token not in outputs["env"].values()
        assert outputs["smoke_env"] == {"SENTRY_READ_TOKEN": token}

    return run_program("dev", check)


SMOKE_ONLY = "sntryu_smoke_only_read_token_0123"
PRINTS_IT = """
def test_prints_the_read_token(outputs):
    print("token", outputs.smoke_env["SENTRY_READ_TOKEN"])
    assert outputs.smoke_env["SENTRY_READ_TOKEN"] == "elsewhere"
"""


def test_the_read_token_never_reaches_smokes_report(pytester: pytest.Pytester) -> None:
    # Like every secret output, smoke masks it wherever a check could leak it.
    from tests.unit.smoke.helpers import dead_outputs, free_port

    pytester.makeconftest(
        "from smoke.conftest import pytest_addoption  # noqa: F401\n"
        'pytest_plugins = ["smoke.plugin"]\n'
    )
    pytester.makepyfile(test_prints=PRINTS_IT)
    outputs = dead_outputs(free_port(), free_port(), free_port())
    outputs["smoke_env"] = {"SENTRY_READ_TOKEN": SMOKE_ONLY}
    path = pytester.path / "outputs.json"
    path.write_text(json.dumps(outputs))
    result = pytester.runpytest_subprocess(
        "--outputs-file", str(path), "-rA", "-vv", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str() + result.stderr.str()
    assert "token ***" in out and SMOKE_ONLY not in out
