"""Waiting out the database restart that SSL enforcement or a resize sets off, so migrations
never race it: the restart is asynchronous, and right after the request the project can still
read ACTIVE_HEALTHY and accept connections on the instance about to go down.

Management API (OpenAPI spec in supabase/cli, pkg/api/types.gen.go):
- ``GET /v1/projects/{ref}/ssl-enforcement`` -> {currentConfig: {database: bool},
  appliedSuccessfully: bool}: SSL enforcement is in force once both say so.
- ``GET /v1/projects/{ref}/billing/addons`` -> {selected_addons: [{type: compute_instance,
  variant: {id: ci_<size>}}]}; a resize shows as the project's status leaving ACTIVE_HEALTHY
  (RESIZING, RESTARTING, COMING_UP, ...) before it reads ACTIVE_HEALTHY again.

>>> compute_variant("small")
'ci_small'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from components.cloud.errors import SupabaseError
from components.cloud.supabase_api import HEALTHY, SupabaseClient

log = logging.getLogger(__name__)
SSL_IN_FORCE_S = 300.0  # the API applies it within seconds; bounded all the same
RESTART_SHOWS_S = 300.0  # Supabase starts a resize's restart within a minute or two


def compute_variant(size: str) -> str:
    """The compute add-on variant id of an instance size."""
    return f"ci_{size}"


def wait_ssl_in_force(
    api: SupabaseClient,
    ref: str,
    enabled: bool,
    deadline_s: float = SSL_IN_FORCE_S,
    poll_s: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once the project's SSL enforcement reads `enabled` and applied."""
    start = clock()
    while True:
        config = api.request("GET", f"/v1/projects/{ref}/ssl-enforcement") or {}
        current = (config.get("currentConfig") or {}).get("database")
        if current is enabled and config.get("appliedSuccessfully") is True:
            return
        if clock() - start + poll_s > deadline_s:
            raise SupabaseError(
                f"supabase: project {ref}: ssl-enforcement database={enabled} was not in force "
                f"within {deadline_s:.0f}s (it reads database={current}, applied="
                f"{config.get('appliedSuccessfully')}); run `pulumi up` again"
            )
        log.info("supabase: SSL enforcement of %s not in force yet; waiting", ref)
        sleep(poll_s)


def compute_in_force(api: SupabaseClient, ref: str, size: str) -> bool:
    """Whether the project already runs on `size` (a resize request would restart nothing)."""
    return api.selected_addon(ref, "compute_instance") == compute_variant(size)


def wait_restart_shows(
    api: SupabaseClient,
    ref: str,
    size: str,
    deadline_s: float = RESTART_SHOWS_S,
    poll_s: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Return the first status other than ACTIVE_HEALTHY after a resize to `size` (the restart
    has begun); a named error when it never shows within `deadline_s`."""
    start = clock()
    while True:
        status = api.status(ref)
        if status != HEALTHY:
            log.info("supabase: project %s is %s: the resize to %s has begun", ref, status, size)
            return status
        if clock() - start + poll_s > deadline_s:
            raise SupabaseError(
                f"supabase: project {ref} never left ACTIVE_HEALTHY within {deadline_s:.0f}s of "
                f"the resize to {size}; migrating now could race its restart. Run `pulumi up` "
                "again once the dashboard shows the new size"
            )
        sleep(poll_s)
