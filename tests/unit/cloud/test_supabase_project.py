"""`SupabaseProjectProvider` against a scripted API, and `SupabaseProject` under Pulumi mocks."""

from __future__ import annotations

import asyncio
import base64
import traceback
from typing import Any
from urllib.parse import quote

import dill  # type: ignore[import-untyped]
import httpx
import pulumi
import pytest
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.mocks import MockMonitor

from components.cloud.errors import SupabaseError
from components.cloud.supabase_project import (
    SECRET_OUTPUTS,
    SupabaseProject,
    SupabaseProjectProvider,
)
from tests.unit.cloud.fake_supabase import (
    KEYS,
    PASSWORD,
    POOLER,
    REF,
    TOKEN,
    FakeApi,
    project,
    reply,
)

PROJECT = f"/v1/projects/{REF}"
INPUTS: dict[str, Any] = {
    "name": "mentora-prod",
    "organization_slug": "acme",
    "region": "eu-central-1",
    "instance_size": None,
    "ssl_enforced": True,
    "allowed_cidrs": [],
    "access_token": TOKEN,
    "db_password": PASSWORD,
}


def ssl_as_requested(api: FakeApi) -> httpx.Response:
    requested = api.body("PUT", f"{PROJECT}/ssl-enforcement")["requestedConfig"]["database"]
    return reply(200, {"currentConfig": {"database": requested}, "appliedSuccessfully": True})


def healthy(api: FakeApi) -> FakeApi:
    """A project that provisions, configures and answers like a real one."""
    api.on("POST", "/v1/projects", reply(201, {"id": REF, "ref": REF, "status": "COMING_UP"}))
    api.on("GET", PROJECT, project("COMING_UP"), project("ACTIVE_HEALTHY"))
    api.on("PUT", f"{PROJECT}/ssl-enforcement", reply(200, {"appliedSuccessfully": True}))
    # In force as last requested (SslEnforcementResponse), like the API once it has applied it.
    api.on("GET", f"{PROJECT}/ssl-enforcement", lambda _: ssl_as_requested(api))
    api.on("GET", f"{PROJECT}/billing/addons", reply(200, {"selected_addons": []}))
    api.on("POST", f"{PROJECT}/network-restrictions/apply", reply(201, {"status": "applied"}))
    api.on("GET", f"{PROJECT}/api-keys", reply(200, KEYS))
    api.on("GET", f"{PROJECT}/config/database/pooler", reply(200, POOLER))
    api.on("PATCH", f"{PROJECT}/billing/addons", reply(200))
    api.on("DELETE", PROJECT, reply(200, {"ref": REF}))
    return api


class Probe:
    """Records the URLs the provider probes; refuses `failures` times first."""

    def __init__(self, failures: int = 0) -> None:
        self.failures, self.urls = failures, []  # type: list[str]

    def __call__(self, url: str) -> None:
        self.urls.append(url)
        if len(self.urls) <= self.failures:
            raise OSError("connection refused")


def provider(
    api: FakeApi, wait_deadline_s: float = 5.0, probe: Probe | None = None
) -> SupabaseProjectProvider:
    return SupabaseProjectProvider(
        api.transport,
        wait_deadline_s=wait_deadline_s,
        poll_s=0.0,
        probe=probe or Probe(),
        ready_deadline_s=0.05,
    )


def outs(result: CreateResult | UpdateResult | ReadResult) -> dict[str, Any]:
    assert result.outs is not None
    return result.outs


def state(**changes: Any) -> dict[str, Any]:
    """What a successful create stored, plus `changes`."""
    return {**INPUTS, "ref": REF, "status": "ACTIVE_HEALTHY", "__provider": "pickled", **changes}


def test_create_provisions_configures_and_returns_every_output(api: FakeApi) -> None:
    result = provider(healthy(api)).create({**INPUTS, "allowed_cidrs": ["203.0.113.0/24"]})

    created = outs(result)
    encoded = quote(PASSWORD, safe="")
    assert result.id == REF
    assert created["ref"] == REF and created["status"] == "ACTIVE_HEALTHY"
    assert created["url"] == f"https://{REF}.supabase.co"
    assert (created["anon_key"], created["service_role_key"]) == ("sb_publishable_x", "sb_secret_x")
    assert (created["anon_key_kind"], created["service_role_key_kind"]) == ("publishable", "secret")
    assert created["database_url"] == (
        f"postgresql://postgres.{REF}:{encoded}@aws-1-eu-central-1.pooler.supabase.com:6543"
        "/postgres?sslmode=require"
    )
    # Migrations: the session pooler of the same PRIMARY entry, never db.<ref>.supabase.co.
    assert created["migrations_url"] == created["database_url"].replace(":6543/", ":5432/")
    assert created["direct_url"] == created["migrations_url"]
    assert created["access_token"] == TOKEN  # kept for update/delete; secret via the options
    assert api.body("PUT", f"{PROJECT}/ssl-enforcement") == {"requestedConfig": {"database": True}}
    assert api.body("POST", f"{PROJECT}/network-restrictions/apply")["dbAllowedCidrs"] == [
        "203.0.113.0/24"
    ]


def test_create_leaves_a_new_project_unrestricted_without_a_call(api: FakeApi) -> None:
    provider(healthy(api)).create(INPUTS)
    assert api.calls("POST", f"{PROJECT}/network-restrictions/apply") == []


def test_create_failing_after_the_post_deletes_the_half_made_project(api: FakeApi) -> None:
    healthy(api).on("GET", PROJECT, project("COMING_UP"))

    with pytest.raises(SupabaseError) as caught:
        provider(api, wait_deadline_s=0.05).create(INPUTS)

    message = str(caught.value)
    assert "mentora-prod" in message and "last status COMING_UP" in message
    assert f"project {REF} was deleted again" in message
    assert len(api.calls("DELETE", PROJECT)) == 1


def test_create_says_what_to_delete_when_the_rollback_fails(api: FakeApi) -> None:
    healthy(api).on("GET", PROJECT, project("INIT_FAILED"))
    api.on("DELETE", PROJECT, reply(403, {"message": "forbidden"}))

    with pytest.raises(SupabaseError, match="delete it in the dashboard") as caught:
        provider(api).create(INPUTS)
    assert "last status INIT_FAILED" in str(caught.value)


@pytest.mark.parametrize("key", ["name", "organization_slug", "region"])
def test_diff_replaces_on_identity_changes(key: str) -> None:
    result = SupabaseProjectProvider().diff(REF, state(), {**INPUTS, key: "other"})
    assert result.changes is True
    assert result.replaces == [key]


@pytest.mark.parametrize(
    "change",
    [
        {"ssl_enforced": False},
        {"allowed_cidrs": ["198.51.100.0/24"]},
        {"instance_size": "small"},
        {"db_password": "new-password"},
        {"access_token": "sbp_rotated"},
    ],
)
def test_diff_updates_settings_in_place(change: dict[str, Any]) -> None:
    result = SupabaseProjectProvider().diff(REF, state(), {**INPUTS, **change})
    assert result.changes is True
    assert result.replaces == []


def test_diff_ignores_outputs_order_and_unset_size() -> None:
    olds = state(allowed_cidrs=["2001:db8::/64", "203.0.113.0/24"], instance_size=None)
    news = {**INPUTS, "allowed_cidrs": ["203.0.113.0/24", "2001:db8::/64"], "instance_size": ""}
    assert SupabaseProjectProvider().diff(REF, olds, news).changes is False


def test_update_applies_only_what_changed(api: FakeApi) -> None:
    healthy(api).on("GET", PROJECT, project("ACTIVE_HEALTHY"))
    news = {**INPUTS, "ssl_enforced": False, "allowed_cidrs": ["198.51.100.7/32"]}

    updated = outs(provider(api).update(REF, state(), news))

    assert updated["ssl_enforced"] is False and updated["status"] == "ACTIVE_HEALTHY"
    assert api.body("PUT", f"{PROJECT}/ssl-enforcement") == {"requestedConfig": {"database": False}}
    assert api.body("POST", f"{PROJECT}/network-restrictions/apply") == {
        "dbAllowedCidrs": ["198.51.100.7/32"],
        "dbAllowedCidrsV6": [],
    }
    assert api.calls("PATCH", f"{PROJECT}/billing/addons") == []
    assert api.calls("PATCH", f"{PROJECT}/database/password") == []


def test_update_resizes_changes_the_password_and_waits_healthy(api: FakeApi) -> None:
    healthy(api).on("PATCH", f"{PROJECT}/database/password", reply(200, {"message": "ok"}))
    news = {**INPUTS, "instance_size": "small", "db_password": "n3w-password"}

    probe = Probe()
    updated = outs(provider(api, probe=probe).update(REF, state(), news))

    assert api.body("PATCH", f"{PROJECT}/billing/addons")["addon_variant"] == "ci_small"
    assert api.body("PATCH", f"{PROJECT}/database/password") == {"password": "n3w-password"}
    assert len(api.calls("GET", PROJECT)) == 3  # polled until healthy again, then re-checked
    assert probe.urls == [updated["migrations_url"]]  # the resize restarted the database
    assert "n3w-password" in updated["database_url"] and PASSWORD not in updated["direct_url"]


def test_create_with_pitr_orders_the_add_on_after_provisioning(api: FakeApi) -> None:
    provider(healthy(api)).create({**INPUTS, "pitr_days": 7})
    assert api.body("PATCH", f"{PROJECT}/billing/addons") == {
        "addon_type": "pitr",
        "addon_variant": "pitr_7",
    }


def test_create_without_pitr_leaves_the_add_ons_alone(api: FakeApi) -> None:
    provider(healthy(api)).create(dict(INPUTS))
    assert api.calls("PATCH", f"{PROJECT}/billing/addons") == []


def test_update_turning_pitr_off_removes_the_active_variant(api: FakeApi) -> None:
    # OpenAPI v1-remove-project-addon: DELETE .../billing/addons/{addon_variant} (pitr_14 here,
    # as GET .../billing/addons lists it in selected_addons).
    selected = {"selected_addons": [{"type": "pitr", "variant": {"id": "pitr_14"}}]}
    healthy(api).on("GET", f"{PROJECT}/billing/addons", reply(200, selected))
    api.on("DELETE", f"{PROJECT}/billing/addons/pitr_14", reply(200, {}))
    assert SupabaseProjectProvider().diff(REF, state(pitr_days=14), dict(INPUTS)).replaces == []

    provider(api).update(REF, state(pitr_days=14), dict(INPUTS))

    assert len(api.calls("DELETE", f"{PROJECT}/billing/addons/pitr_14")) == 1
    assert api.calls("PATCH", f"{PROJECT}/billing/addons") == []


@pytest.mark.parametrize("answer", [reply(404, {"message": "not found"}), project("REMOVED")])
def test_read_reports_a_vanished_project_with_an_empty_id(api: FakeApi, answer: Any) -> None:
    api.on("GET", PROJECT, answer)
    result = provider(api).read(REF, state())
    assert result.id == "" and result.outs == {}


def test_read_refreshes_status_and_keys(api: FakeApi) -> None:
    healthy(api).on("GET", PROJECT, project("INACTIVE"))
    result = provider(api).read(REF, state(anon_key="old"))
    assert result.id == REF
    assert outs(result)["status"] == "INACTIVE" and outs(result)["anon_key"] == "sb_publishable_x"


def test_delete_deletes_and_accepts_an_already_deleted_project(api: FakeApi) -> None:
    api.on("DELETE", PROJECT, reply(200, {"ref": REF}), reply(404))
    provider(api).delete(REF, state())
    provider(api).delete(REF, state())
    assert len(api.calls("DELETE", PROJECT)) == 2


def test_429_then_200_is_retried_inside_the_provider(api: FakeApi) -> None:
    healthy(api).on("GET", PROJECT, reply(429, {"message": "slow down"}, **{"Retry-After": "0"}))
    api.routes[("GET", PROJECT)].append(project("ACTIVE_HEALTHY"))
    assert outs(provider(api).read(REF, state()))["status"] == "ACTIVE_HEALTHY"


def test_secrets_never_reach_exception_text(api: FakeApi) -> None:
    echo = {"message": f"token {TOKEN} with db_pass {PASSWORD} rejected"}
    api.on("POST", "/v1/projects", reply(401, echo))

    with pytest.raises(SupabaseError) as caught:
        provider(api).create(INPUTS)

    text = "".join(traceback.format_exception(caught.value))
    assert "HTTP 401" in text and "POST /v1/projects" in text
    for secret in (TOKEN, PASSWORD, quote(PASSWORD, safe="")):
        assert secret not in text


def test_create_waits_until_the_session_pooler_accepts_after_ssl_enforcement(
    api: FakeApi,
) -> None:
    probe = Probe(failures=2)  # the restart that SSL enforcement triggers refuses for a while
    created = outs(provider(healthy(api), probe=probe).create(INPUTS))
    assert probe.urls == [created["migrations_url"]] * 3
    assert ":5432/" in probe.urls[0] and api.calls("PUT", f"{PROJECT}/ssl-enforcement")


def test_create_fails_named_when_the_database_never_accepts(api: FakeApi) -> None:
    with pytest.raises(SupabaseError, match=r"pooler\.supabase\.com:5432 accepted no connection"):
        provider(healthy(api), probe=Probe(failures=10**6)).create(INPUTS)
    assert len(api.calls("DELETE", PROJECT)) == 1  # rolled back like any failed create


def test_update_of_ssl_enforcement_waits_connectable_again(api: FakeApi) -> None:
    healthy(api).on("GET", PROJECT, project("ACTIVE_HEALTHY"))
    probe = Probe()
    provider(api, probe=probe).update(REF, state(), {**INPUTS, "ssl_enforced": False})
    assert len(probe.urls) == 1
    provider(api, probe=probe).update(REF, state(), {**INPUTS, "allowed_cidrs": ["10.0.0.0/8"]})
    assert len(probe.urls) == 1  # no restart, no wait


def test_no_primary_pooler_fails_the_create_instead_of_building_a_host(api: FakeApi) -> None:
    healthy(api).on("GET", f"{PROJECT}/config/database/pooler", reply(200, []))
    with pytest.raises(SupabaseError, match="no PRIMARY entry"):
        provider(api).create(INPUTS)


def test_check_refuses_a_resize_to_nano_at_preview() -> None:
    result = SupabaseProjectProvider().check(
        state(instance_size="micro"), {**INPUTS, "instance_size": "nano"}
    )
    assert [f.property for f in result.failures] == ["instance_size"]
    assert "mentora:supabaseInstanceSize" in result.failures[0].reason
    assert SupabaseProjectProvider().check({}, {**INPUTS, "instance_size": "nano"}).failures == []


def test_check_rejects_bad_cidrs_and_empty_names() -> None:
    result = SupabaseProjectProvider().check({}, {**INPUTS, "name": "", "allowed_cidrs": ["x"]})
    assert {f.property for f in result.failures} == {"name", "allowed_cidrs"}


def test_the_pickled_provider_holds_no_client() -> None:
    restored = dill.loads(base64.b64decode(serialize_provider(SupabaseProjectProvider())))
    assert isinstance(restored, SupabaseProjectProvider)
    assert vars(restored) == {
        "transport_factory": None,
        "wait_deadline_s": 900.0,
        "poll_s": 10.0,
        "probe": None,
        "ready_deadline_s": 300.0,
        "restart_shows_s": 300.0,
    }


class RecordingMonitor(MockMonitor):
    """The mock monitor, keeping every RegisterResource request (options included)."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        self.requests.append(request)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


class EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return REF, dict(args.inputs)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def monitor() -> RecordingMonitor:
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = EchoMocks()
    recorder = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="mentora", stack="prod", preview=False, monitor=recorder
    )
    return recorder


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_resource_marks_credentials_and_keys_secret(
    monitor: RecordingMonitor,
) -> pulumi.Output[None]:
    resource = SupabaseProject(
        "database-project",
        name="mentora-prod",
        organization_slug="acme",
        region="eu-central-1",
        access_token=TOKEN,
        db_password=PASSWORD,
        allowed_cidrs=["203.0.113.0/24"],
    )

    def check(secret_flags: list[bool]) -> None:
        request = next(r for r in monitor.requests if r.name == "database-project")
        assert sorted(request.additionalSecretOutputs) == sorted(SECRET_OUTPUTS)
        assert set(SECRET_OUTPUTS) >= {"anon_key", "service_role_key", "database_url"}
        assert secret_flags == [True, True]

    flags = [resource.access_token.is_secret(), resource.db_password.is_secret()]  # type: ignore[attr-defined]
    return pulumi.Output.all(*flags).apply(check)
