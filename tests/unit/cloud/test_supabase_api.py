"""`SupabaseClient` against a scripted Management API: payloads, polling, retries, errors."""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx
import pytest

from components.cloud.errors import (
    SupabaseApiError,
    SupabaseConnectError,
    SupabaseError,
    SupabaseNotHealthyError,
)
from components.cloud.supabase_api import SupabaseClient
from tests.unit.cloud.fake_supabase import (
    PASSWORD,
    REF,
    TOKEN,
    FakeApi,
    FakeClock,
    project,
    reply,
)

PROJECT = f"/v1/projects/{REF}"


@pytest.fixture
def client(api: FakeApi, clock: FakeClock) -> SupabaseClient:
    return SupabaseClient(
        TOKEN, transport=api.transport(), secrets=(PASSWORD,), sleep=clock.sleep, clock=clock
    )


def test_create_project_sends_the_documented_payload(api: FakeApi, client: SupabaseClient) -> None:
    api.on("POST", "/v1/projects", reply(201, {"id": REF, "ref": REF, "status": "COMING_UP"}))

    ref = client.create_project("mentora-prod", "acme", "eu-central-1", PASSWORD, "small")

    assert ref == REF
    assert api.body("POST", "/v1/projects") == {
        "name": "mentora-prod",
        "db_pass": PASSWORD,
        "organization_slug": "acme",
        "region_selection": {"type": "specific", "code": "eu-central-1"},
        "desired_instance_size": "small",
    }
    request = api.calls("POST", "/v1/projects")[0]
    assert request.url.host == "api.supabase.com"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_create_project_leaves_the_size_to_the_api_when_unset(
    api: FakeApi, client: SupabaseClient
) -> None:
    api.on("POST", "/v1/projects", reply(201, {"id": REF}))
    assert client.create_project("p", "acme", "us-east-1", PASSWORD, None) == REF
    assert "desired_instance_size" not in api.body("POST", "/v1/projects")


def test_wait_healthy_polls_until_active_healthy(
    api: FakeApi, client: SupabaseClient, clock: FakeClock
) -> None:
    api.on("GET", PROJECT, project("COMING_UP"), project("COMING_UP"), project("ACTIVE_HEALTHY"))

    assert client.wait_healthy(REF, deadline_s=60, poll_s=5)["status"] == "ACTIVE_HEALTHY"
    assert clock.sleeps == [5, 5]


def test_wait_healthy_deadline_names_the_project_and_its_last_status(
    api: FakeApi, client: SupabaseClient, clock: FakeClock
) -> None:
    api.on("GET", PROJECT, project("COMING_UP"))

    with pytest.raises(SupabaseNotHealthyError) as caught:
        client.wait_healthy(REF, deadline_s=30, poll_s=10, name="mentora-prod")

    message = str(caught.value)
    assert "mentora-prod" in message and REF in message
    assert "last status COMING_UP" in message and "within 30s" in message
    assert clock.now <= 30


def test_wait_healthy_stops_at_once_on_a_final_status(api: FakeApi, client: SupabaseClient) -> None:
    api.on("GET", PROJECT, project("INIT_FAILED"))
    with pytest.raises(SupabaseNotHealthyError, match="last status INIT_FAILED"):
        client.wait_healthy(REF, deadline_s=600)
    assert len(api.calls("GET", PROJECT)) == 1


def test_missing_project_is_none_and_deleting_it_again_is_fine(
    api: FakeApi, client: SupabaseClient
) -> None:
    api.on("GET", PROJECT, reply(404, {"message": "Project not found"}))
    api.on("DELETE", PROJECT, reply(200, {"id": 1, "ref": REF}), reply(404))

    assert client.get_project(REF) is None
    assert client.delete_project(REF) is True
    assert client.delete_project(REF) is False


def test_429_is_retried_after_retry_after_and_logged(
    api: FakeApi, client: SupabaseClient, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    api.on("GET", PROJECT, reply(429, {"message": "Too many requests"}, **{"Retry-After": "3"}))
    api.routes[("GET", PROJECT)].append(project("ACTIVE_HEALTHY"))

    with caplog.at_level(logging.WARNING):
        assert client.get_project(REF) == {
            "id": REF,
            "ref": REF,
            "name": "mentora-prod",
            "status": "ACTIVE_HEALTHY",
        }
    assert clock.sleeps == [3.0]
    assert f"GET {PROJECT} attempt 1 failed" in caplog.text
    assert TOKEN not in caplog.text


def test_5xx_is_retried_until_the_deadline_then_names_the_call(
    api: FakeApi, client: SupabaseClient, clock: FakeClock
) -> None:
    api.on("GET", PROJECT, reply(503, {"message": "upstream unavailable"}))

    with pytest.raises(SupabaseApiError) as caught:
        client.get_project(REF)

    error = caught.value
    assert (error.method, error.path, error.status) == ("GET", PROJECT, 503)
    assert clock.sleeps == [1, 2, 4, 8, 16, 30, 30]  # the next 30s would pass the 120s deadline
    assert f"GET {PROJECT} failed after 8 attempts with HTTP 503: upstream unavailable" in str(
        error
    )


def test_connect_errors_are_retried(api: FakeApi, client: SupabaseClient) -> None:
    api.on("POST", "/v1/projects", httpx.ConnectError("refused"), reply(201, {"ref": REF}))
    assert client.create_project("p", "acme", "us-east-1", PASSWORD, None) == REF
    assert len(api.calls("POST", "/v1/projects")) == 2


@pytest.mark.parametrize(
    "failure", [reply(502, {"message": "bad gateway"}), httpx.ReadTimeout("slow")]
)
def test_project_creation_is_not_retried_once_it_may_have_reached_the_api(
    api: FakeApi, client: SupabaseClient, failure: httpx.Response | Exception
) -> None:
    api.on("POST", "/v1/projects", failure, reply(201, {"ref": REF}))
    with pytest.raises((SupabaseApiError, SupabaseConnectError)):
        client.create_project("p", "acme", "us-east-1", PASSWORD, None)
    assert len(api.calls("POST", "/v1/projects")) == 1


def test_401_names_the_call_and_the_fix_but_never_the_token(
    api: FakeApi, client: SupabaseClient
) -> None:
    # Worst case: the API echoes the bearer token back.
    api.on("GET", PROJECT, reply(401, {"message": f"JWT {TOKEN} could not be decoded"}))

    with pytest.raises(SupabaseApiError) as caught:
        client.get_project(REF)

    text = f"{caught.value} {caught.value!r} {caught.value.api_message}"
    assert TOKEN not in text
    assert f"GET {PROJECT} failed with HTTP 401: JWT *** could not be decoded" in text
    assert "access token" in text


def test_error_text_never_holds_the_password(api: FakeApi, client: SupabaseClient) -> None:
    body = {"message": f"db_pass {PASSWORD} / {quote(PASSWORD, safe='')} is too weak"}
    api.on("POST", "/v1/projects", reply(400, body))

    with pytest.raises(SupabaseApiError) as caught:
        client.create_project("p", "acme", "us-east-1", PASSWORD, None)

    assert caught.value.status == 400
    assert PASSWORD not in str(caught.value)
    assert quote(PASSWORD, safe="") not in str(caught.value)


def test_ssl_and_network_restriction_payloads(api: FakeApi, client: SupabaseClient) -> None:
    api.on("PUT", f"{PROJECT}/ssl-enforcement", reply(200, {"appliedSuccessfully": True}))
    api.on("POST", f"{PROJECT}/network-restrictions/apply", reply(201, {"status": "applied"}))

    assert client.apply_ssl_enforcement(REF, True) is True
    assert api.body("PUT", f"{PROJECT}/ssl-enforcement") == {"requestedConfig": {"database": True}}

    client.apply_network_restrictions(REF, ["203.0.113.7/24", "2001:db8::/64"])
    assert api.body("POST", f"{PROJECT}/network-restrictions/apply") == {
        "dbAllowedCidrs": ["203.0.113.0/24"],
        "dbAllowedCidrsV6": ["2001:db8::/64"],
    }
    client.apply_network_restrictions(REF, [])  # empty: explicitly unrestricted
    assert api.body("POST", f"{PROJECT}/network-restrictions/apply") == {
        "dbAllowedCidrs": ["0.0.0.0/0"],
        "dbAllowedCidrsV6": ["::/0"],
    }
    with pytest.raises(SupabaseError, match="'10.0.0.300/8' is not an IPv4/IPv6 network"):
        client.apply_network_restrictions(REF, ["10.0.0.300/8"])


def test_resize_and_password_payloads(api: FakeApi, client: SupabaseClient) -> None:
    api.on("PATCH", f"{PROJECT}/billing/addons", reply(200))
    api.on("PATCH", f"{PROJECT}/database/password", reply(200, {"message": "ok"}))

    client.set_instance_size(REF, "small")
    client.update_database_password(REF, PASSWORD)

    assert api.body("PATCH", f"{PROJECT}/billing/addons") == {
        "addon_type": "compute_instance",
        "addon_variant": "ci_small",
    }
    assert api.body("PATCH", f"{PROJECT}/database/password") == {"password": PASSWORD}


def test_an_empty_token_is_refused_before_any_request() -> None:
    with pytest.raises(SupabaseError, match="access token is empty"):
        SupabaseClient("")
