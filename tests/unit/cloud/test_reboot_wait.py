"""Migrations never race the database restart that SSL enforcement or a resize triggers
(issue 20, item 5): the restart is asynchronous, so the status can still read ACTIVE_HEALTHY,
and the connect probe pass, before it happens.

Contract (Management API, OpenAPI spec in supabase/cli, pkg/api/types.gen.go):
- `PUT /v1/projects/{ref}/ssl-enforcement` {requestedConfig: {database}} and
  `GET /v1/projects/{ref}/ssl-enforcement` -> SslEnforcementResponse {currentConfig: {database:
  bool}, appliedSuccessfully: bool}: the change is in force once `currentConfig.database` is the
  requested value and `appliedSuccessfully` is true.
- `PATCH /v1/projects/{ref}/billing/addons` {addon_type: compute_instance, addon_variant:
  ci_<size>}; `GET .../billing/addons` -> {selected_addons: [{type, variant: {id}}]}; project
  `status` (V1ProjectWithDatabaseResponse) leaves ACTIVE_HEALTHY (e.g. RESIZING, RESTARTING,
  COMING_UP) while the instance restarts, then reads ACTIVE_HEALTHY again.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.cloud.errors import SupabaseError
from tests.unit.cloud.fake_supabase import REF, FakeApi, project, reply
from tests.unit.cloud.test_supabase_project import (
    INPUTS,
    PROJECT,
    Probe,
    healthy,
    provider,
    state,
)

SSL = f"{PROJECT}/ssl-enforcement"
ADDONS = f"{PROJECT}/billing/addons"


def ssl_config(database: bool, applied: bool = True) -> Any:
    return reply(200, {"currentConfig": {"database": database}, "appliedSuccessfully": applied})


class WhenProbed(Probe):
    """Records how many reads of `path` the provider had made when it first probed."""

    def __init__(self, api: FakeApi, path: str) -> None:
        super().__init__()
        self.api, self.path, self.reads_before = api, path, -1

    def __call__(self, url: str) -> None:
        if self.reads_before < 0:
            self.reads_before = len(self.api.calls("GET", self.path))
        super().__call__(url)


def test_ssl_enforcement_is_in_force_before_the_database_is_probed() -> None:
    api = healthy(FakeApi()).on("GET", PROJECT, project("ACTIVE_HEALTHY"))
    api.on("GET", SSL, ssl_config(True), ssl_config(True), ssl_config(False))
    probe = WhenProbed(api, SSL)
    provider(api, probe=probe).update(REF, state(), {**INPUTS, "ssl_enforced": False})
    assert probe.reads_before == 3  # waited for the third read, the one in force


def test_ssl_enforcement_never_in_force_is_a_named_error() -> None:
    api = healthy(FakeApi()).on("GET", PROJECT, project("ACTIVE_HEALTHY"))
    api.on("GET", SSL, ssl_config(True, applied=False))
    with pytest.raises(SupabaseError, match="ssl-enforcement.*not in force"):
        provider(api, probe=Probe()).update(REF, state(), {**INPUTS, "ssl_enforced": False})


def test_a_resize_waits_for_the_restart_before_probing() -> None:
    api = healthy(FakeApi())
    api.on("GET", ADDONS, reply(200, {"selected_addons": []}))
    # Still healthy right after the PATCH (the restart has not begun), then restarting.
    api.on(
        "GET",
        PROJECT,
        project("ACTIVE_HEALTHY"),
        project("ACTIVE_HEALTHY"),
        project("RESIZING"),
        project("ACTIVE_HEALTHY"),
    )
    probe = WhenProbed(api, PROJECT)
    provider(api, probe=probe).update(REF, state(), {**INPUTS, "instance_size": "small"})
    assert api.body("PATCH", ADDONS)["addon_variant"] == "ci_small"
    assert probe.reads_before >= 4  # saw it leave ACTIVE_HEALTHY and come back


def test_a_resize_already_in_force_is_not_requested_or_waited_for_again() -> None:
    api = healthy(FakeApi()).on("GET", PROJECT, project("ACTIVE_HEALTHY"))
    api.on(
        "GET",
        ADDONS,
        reply(
            200, {"selected_addons": [{"type": "compute_instance", "variant": {"id": "ci_small"}}]}
        ),
    )
    provider(api, probe=Probe()).update(REF, state(), {**INPUTS, "instance_size": "small"})
    assert api.calls("PATCH", ADDONS) == []


def test_a_restart_that_never_shows_is_a_named_error() -> None:
    api = healthy(FakeApi()).on("GET", PROJECT, project("ACTIVE_HEALTHY"))
    api.on("GET", ADDONS, reply(200, {"selected_addons": []}))
    slow = provider(api, probe=Probe())
    slow.restart_shows_s = 0.05
    with pytest.raises(SupabaseError, match="never left ACTIVE_HEALTHY"):
        slow.update(REF, state(), {**INPUTS, "instance_size": "small"})
