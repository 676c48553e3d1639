"""`SupabaseClient` against the Management API's published contract (issue 9, item 7).

Sources, named per test:
- OpenAPI spec: supabase/supabase apps/docs/spec/api_v1_openapi.json, rendered at
  https://supabase.com/docs/reference/api (v1-list-project-addons, v1-remove-project-addon,
  v1-get-network-restrictions, v1-update-network-restrictions, v1-get-project-api-keys);
- its generated Go types: supabase/cli pkg/api/types.gen.go;
- supabase/terraform-provider-supabase internal/provider/apikeys_data_source.go.
"""

from __future__ import annotations

import pytest

from components.cloud.errors import (
    SupabaseApiError,
    SupabaseError,
    SupabaseNotHealthyError,
    SupabaseRestrictionsPendingError,
    SupabaseSizeError,
)
from components.cloud.supabase_api import SupabaseClient
from tests.unit.cloud.fake_supabase import (
    KEYS,
    LEGACY_KEYS,
    NEW_KEYS,
    PASSWORD,
    REF,
    TOKEN,
    FakeApi,
    FakeClock,
    project,
    reply,
)

PROJECT = f"/v1/projects/{REF}"
ADDONS = f"{PROJECT}/billing/addons"
RESTRICTIONS = f"{PROJECT}/network-restrictions"


@pytest.fixture
def client(api: FakeApi, clock: FakeClock) -> SupabaseClient:
    return SupabaseClient(
        TOKEN, transport=api.transport(), secrets=(PASSWORD,), sleep=clock.sleep, clock=clock
    )


def addons(*selected: tuple[str, str]) -> dict[str, object]:
    """A ListProjectAddonsResponse: {selected_addons: [{type, variant: {id, name, price}}],
    available_addons} (OpenAPI v1-list-project-addons)."""
    price = {"description": "$100/month", "type": "fixed", "interval": "monthly", "amount": 100}
    return {
        "selected_addons": [
            {"type": kind, "variant": {"id": variant, "name": variant, "price": price}}
            for kind, variant in selected
        ],
        "available_addons": [],
    }


def test_pitr_removal_deletes_the_active_variant(api: FakeApi, client: SupabaseClient) -> None:
    # OpenAPI: DELETE /v1/projects/{ref}/billing/addons/{addon_variant}, addon_variant one of
    # pitr_7 | pitr_14 | pitr_28 (there is no variant named `pitr`); the active one is read from
    # GET /v1/projects/{ref}/billing/addons selected_addons[type == pitr].variant.id.
    api.on("GET", ADDONS, reply(200, addons(("compute_instance", "ci_small"), ("pitr", "pitr_14"))))
    api.on("DELETE", f"{ADDONS}/pitr_14", reply(200, {}))

    client.set_pitr(REF, 0)

    assert len(api.calls("DELETE", f"{ADDONS}/pitr_14")) == 1
    assert api.calls("DELETE", f"{ADDONS}/pitr") == []


def test_pitr_removal_does_not_swallow_a_404(api: FakeApi, client: SupabaseClient) -> None:
    api.on("GET", ADDONS, reply(200, addons(("pitr", "pitr_7"))))
    api.on("DELETE", f"{ADDONS}/pitr_7", reply(404, {"message": "Addon not found"}))

    with pytest.raises(SupabaseApiError) as caught:
        client.set_pitr(REF, 0)
    assert caught.value.status == 404 and caught.value.path == f"{ADDONS}/pitr_7"


def test_pitr_removal_without_an_active_add_on_sends_no_delete(
    api: FakeApi, client: SupabaseClient
) -> None:
    api.on("GET", ADDONS, reply(200, addons(("compute_instance", "ci_micro"))))
    client.set_pitr(REF, 0)
    assert [r.method for r in api.requests] == ["GET"]


@pytest.mark.parametrize("days", [7, 14, 28])
def test_pitr_order_uses_the_published_variants(
    api: FakeApi, client: SupabaseClient, days: int
) -> None:
    # OpenAPI v1-apply-project-addon: PATCH body {addon_type: "pitr", addon_variant: pitr_<d>}.
    api.on("PATCH", ADDONS, reply(200))
    client.set_pitr(REF, days)
    assert api.body("PATCH", ADDONS) == {"addon_type": "pitr", "addon_variant": f"pitr_{days}"}


def test_pitr_days_without_a_variant_are_refused(api: FakeApi, client: SupabaseClient) -> None:
    with pytest.raises(SupabaseError, match="mentora:supabasePitrDays"):
        client.set_pitr(REF, 30)
    assert api.requests == []


def test_resize_to_nano_is_refused_naming_the_setting(api: FakeApi, client: SupabaseClient) -> None:
    # The compute add-on variants are ci_micro ... ci_48xlarge_high_memory: no ci_nano.
    with pytest.raises(SupabaseSizeError) as caught:
        client.set_instance_size(REF, "nano")
    assert "mentora:supabaseInstanceSize" in str(caught.value) and "ci_nano" in str(caught.value)
    assert api.requests == []


def test_a_paused_project_fails_the_wait_at_once(api: FakeApi, client: SupabaseClient) -> None:
    # types.gen.go V1ProjectResponseStatus includes INACTIVE (a paused project): waiting on it
    # never ends in ACTIVE_HEALTHY.
    api.on("GET", PROJECT, project("INACTIVE"))
    with pytest.raises(SupabaseNotHealthyError, match="is paused") as caught:
        client.wait_healthy(REF, deadline_s=600, name="mentora-dev")
    assert "last status INACTIVE" in str(caught.value)
    assert len(api.calls("GET", PROJECT)) == 1


def test_network_restrictions_are_polled_until_applied(
    api: FakeApi, client: SupabaseClient, clock: FakeClock
) -> None:
    # NetworkRestrictionsResponse {entitlement, config: {dbAllowedCidrs, dbAllowedCidrsV6},
    # status: stored | applied} for both POST .../apply and GET .../network-restrictions.
    def answer(status: str) -> object:
        config = {"dbAllowedCidrs": ["203.0.113.0/24"], "dbAllowedCidrsV6": []}
        return reply(
            201 if status == "post" else 200,
            {
                "entitlement": "allowed",
                "config": config,
                "status": "stored" if status in ("post", "stored") else "applied",
            },
        )

    api.on("POST", f"{RESTRICTIONS}/apply", answer("post"))
    api.on("GET", RESTRICTIONS, answer("stored"), answer("applied"))

    client.apply_network_restrictions(REF, ["203.0.113.7/24"], poll_s=5)

    assert len(api.calls("GET", RESTRICTIONS)) == 2
    assert clock.sleeps == [5, 5]


def test_network_restrictions_stuck_in_stored_fail_with_a_named_error(
    api: FakeApi, client: SupabaseClient, clock: FakeClock
) -> None:
    stored = reply(200, {"entitlement": "allowed", "config": {}, "status": "stored"})
    api.on("POST", f"{RESTRICTIONS}/apply", stored)
    api.on("GET", RESTRICTIONS, stored)

    with pytest.raises(SupabaseRestrictionsPendingError) as caught:
        client.apply_network_restrictions(REF, [], deadline_s=30, poll_s=10)

    assert "within 30s" in str(caught.value) and "last status stored" in str(caught.value)
    assert clock.now <= 30


def test_api_keys_prefer_the_publishable_and_secret_keys(
    api: FakeApi, client: SupabaseClient
) -> None:
    # apikeys_data_source.go: type legacy -> name anon | service_role; publishable; secret
    # (several secret keys may exist, each with a name). `reveal=true` returns api_key in full.
    other_secret = {"name": "ci", "api_key": "sb_secret_ci", "type": "secret"}
    api.on("GET", f"{PROJECT}/api-keys", reply(200, [other_secret, *KEYS]))

    keys = client.api_keys(REF)

    assert (keys.anon, keys.service_role) == ("sb_publishable_x", "sb_secret_x")
    assert (keys.public_kind, keys.server_kind) == ("publishable", "secret")
    assert api.calls("GET", f"{PROJECT}/api-keys")[0].url.params["reveal"] == "true"


def test_api_keys_fall_back_to_the_legacy_jwts(api: FakeApi, client: SupabaseClient) -> None:
    api.on("GET", f"{PROJECT}/api-keys", reply(200, LEGACY_KEYS))
    keys = client.api_keys(REF)
    assert keys == ("eyJ.anon.key", "eyJ.service.key", "legacy", "legacy")


def test_api_keys_without_legacy_keys_use_the_new_ones(
    api: FakeApi, client: SupabaseClient
) -> None:
    # Projects with the legacy JWT keys disabled list only publishable/secret keys.
    api.on("GET", f"{PROJECT}/api-keys", reply(200, NEW_KEYS))
    assert client.api_keys(REF)[:2] == ("sb_publishable_x", "sb_secret_x")


def test_api_keys_without_any_usable_pair_say_what_to_create(
    api: FakeApi, client: SupabaseClient
) -> None:
    unrevealed = {"name": "default", "api_key": None, "type": "secret"}
    api.on("GET", f"{PROJECT}/api-keys", reply(200, [NEW_KEYS[0], unrevealed]))
    with pytest.raises(SupabaseError, match="no usable API keys"):
        client.api_keys(REF)
