"""A small typed client for the Supabase Management API (`https://api.supabase.com/v1`).

Endpoint shapes as used by supabase/cli and supabase/terraform-provider-supabase (pkg/api):

- ``POST /v1/projects`` {name, db_pass, organization_slug, region_selection: {type: "specific",
  code}, desired_instance_size?} -> 201 {id, ref, status}
- ``GET /v1/projects/{ref}`` -> {status: COMING_UP ... ACTIVE_HEALTHY | INACTIVE (paused)};
  ``DELETE`` removes it
- ``GET /v1/projects/{ref}/api-keys?reveal=true`` -> [{type: legacy | publishable | secret,
  name, api_key}] (legacy names `anon`, `service_role`)
- ``PUT /v1/projects/{ref}/ssl-enforcement`` {requestedConfig: {database: bool}}
- ``POST /v1/projects/{ref}/network-restrictions/apply`` {dbAllowedCidrs, dbAllowedCidrsV6}
  (replaces both lists) and ``GET .../network-restrictions`` -> {status: stored | applied}
- ``GET /v1/projects/{ref}/config/database/pooler`` -> [SupavisorConfigResponse] (see
  components.cloud.supabase_db)
- ``PATCH /v1/projects/{ref}/billing/addons`` {addon_type, addon_variant} (compute_instance:
  ``ci_<size>``, pitr: ``pitr_7 | pitr_14 | pitr_28``); ``GET .../billing/addons`` ->
  {selected_addons: [{type, variant: {id}}]}; ``DELETE .../billing/addons/{addon_variant}``
- ``PATCH /v1/projects/{ref}/database/password`` {password}

Requests go through `SupabaseHttp` (components.cloud.supabase_http): explicit timeouts, retries
on 429, 5xx and connection errors until a deadline, each failed attempt logged. Project creation
is not idempotent: it is retried only on 429 and on connect errors (never sent).

>>> with SupabaseClient(token) as api:  # doctest: +SKIP
...     ref = api.create_project("mentora-prod", "my-org", "eu-central-1", password, None)
...     api.wait_healthy(ref, deadline_s=900, name="mentora-prod")["status"]
'ACTIVE_HEALTHY'
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from components.cloud.errors import (
    SupabaseError,
    SupabaseNotHealthyError,
    SupabaseRestrictionsPendingError,
    SupabaseSizeError,
)
from components.cloud.supabase_db import Pooler, parse_pooler
from components.cloud.supabase_http import SupabaseHttp

HEALTHY = "ACTIVE_HEALTHY"
PAUSED = "INACTIVE"
# Statuses a project does not leave by waiting: fail at once rather than at the deadline.
FINAL_BAD_STATUSES = frozenset(
    {"INIT_FAILED", "REMOVED", "GOING_DOWN", "PAUSE_FAILED", "RESTORE_FAILED", PAUSED}
)
# No restriction at all, stated explicitly (what an empty allow-list means to this client).
ALLOW_ALL = ("0.0.0.0/0", "::/0")
# Compute add-on variants are ci_<size>; there is no ci_nano (nano is the free plan's default).
RESIZABLE_SIZES = ("micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "...")
PITR_DAYS = (7, 14, 28)  # pitr_7 | pitr_14 | pitr_28
RESTRICTIONS_DEADLINE_S = 300.0

log = logging.getLogger(__name__)


class ApiKeys(NamedTuple):
    """The keys the app uses: `anon` is the public key, `service_role` the server key.

    Each is the new key (`sb_publishable_...`, `sb_secret_...`) when the project has one, else
    the legacy JWT; `kind` says which (`publishable` or `legacy`; `secret` or `legacy`).
    """

    anon: str
    service_role: str
    public_kind: str = "legacy"
    server_kind: str = "legacy"


def split_cidrs(cidrs: Iterable[str]) -> tuple[list[str], list[str]]:
    """(IPv4, IPv6) networks in canonical form; an invalid entry raises `SupabaseError`.

    >>> split_cidrs(["203.0.113.7/24", "2001:db8::/64"])
    (['203.0.113.0/24'], ['2001:db8::/64'])
    """
    v4: list[str] = []
    v6: list[str] = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            raise SupabaseError(
                f"supabase: allowed CIDR {cidr!r} is not an IPv4/IPv6 network; "
                "write it like 203.0.113.0/24 or 2001:db8::/64"
            ) from None
        (v4 if network.version == 4 else v6).append(str(network))
    return v4, v6


class SupabaseClient(SupabaseHttp):
    """The Management API calls this project needs, on top of `SupabaseHttp`'s retry policy."""

    def create_project(
        self,
        name: str,
        organization_slug: str,
        region: str,
        db_pass: str,
        instance_size: str | None,
    ) -> str:
        """Start creating a project; its ref. Provisioning goes on: see `wait_healthy`."""
        body: dict[str, Any] = {
            "name": name,
            "db_pass": db_pass,
            "organization_slug": organization_slug,
            "region_selection": {"type": "specific", "code": region},
        }
        if instance_size:
            body["desired_instance_size"] = instance_size
        created = self.request("POST", "/v1/projects", body=body, idempotent=False)
        ref = (created or {}).get("ref") or (created or {}).get("id")
        if not ref:
            raise SupabaseError(f"supabase: project {name} was created but the answer has no ref")
        return str(ref)

    def get_project(self, ref: str) -> dict[str, Any] | None:
        """The project as the API describes it, or None when it does not exist (404)."""
        project = self.request("GET", f"/v1/projects/{ref}", missing_ok=True)
        return dict(project) if project is not None else None

    def wait_healthy(
        self, ref: str, deadline_s: float, poll_s: float = 10.0, *, name: str = ""
    ) -> dict[str, Any]:
        """Poll until the project is ACTIVE_HEALTHY; `SupabaseNotHealthyError` otherwise."""
        start, label = self._clock(), name or ref
        while True:
            project = self.get_project(ref)
            status = "missing (HTTP 404)" if project is None else str(project.get("status"))
            if project is not None and status == HEALTHY:
                return project
            if status == PAUSED:
                reason = (
                    "is paused and will not become healthy by waiting; restore it in the dashboard"
                )
                raise SupabaseNotHealthyError(label, ref, status, reason)
            if status in FINAL_BAD_STATUSES:
                raise SupabaseNotHealthyError(label, ref, status, "will not become healthy")
            elapsed = self._clock() - start
            if elapsed + poll_s > deadline_s:
                reason = f"was not {HEALTHY} within {deadline_s:.0f}s"
                raise SupabaseNotHealthyError(label, ref, status, reason)
            log.info("supabase: project %s is %s after %.0fs; waiting", label, status, elapsed)
            self._sleep(poll_s)

    def status(self, ref: str) -> str:
        """The project's status; `SupabaseError` (with the fix) when it no longer exists."""
        project = self.get_project(ref)
        if project is None:
            raise SupabaseError(
                f"supabase: project {ref} no longer exists; run `pulumi refresh` so the next "
                "`pulumi up` creates it again"
            )
        return str(project.get("status"))

    def rolled_back(self, ref: str, error: SupabaseError) -> SupabaseError:
        """`error`, after deleting the half-made project `ref`, saying whether that worked."""
        try:
            self.delete_project(ref)
            outcome = f"project {ref} was deleted again; fix the cause and run `pulumi up` again"
        except SupabaseError as cleanup:
            outcome = (
                f"deleting project {ref} failed too ({cleanup}); delete it in the dashboard "
                "before running `pulumi up` again"
            )
        return SupabaseError(f"{error}; {outcome}")

    def delete_project(self, ref: str) -> bool:
        """Delete the project; False when it was already gone."""
        return self.request("DELETE", f"/v1/projects/{ref}", missing_ok=True) is not None

    def api_keys(self, ref: str) -> ApiKeys:
        """The public and server keys, the new kinds preferred over the legacy JWTs."""
        answer = self.request("GET", f"/v1/projects/{ref}/api-keys", params={"reveal": "true"})
        found: dict[tuple[str, str], str] = {}
        for key in answer if isinstance(answer, list) else []:
            if isinstance(key, dict) and key.get("api_key"):
                kind, name = str(key.get("type") or "legacy"), str(key.get("name"))
                # Several secret keys may exist: the one named `default` wins, else the first.
                if (kind, "*") not in found or name == "default":
                    found[(kind, "*")] = str(key["api_key"])
                found[(kind, name)] = str(key["api_key"])
        public = _pick(found, ("publishable", "*"), ("legacy", "anon"))
        server = _pick(found, ("secret", "*"), ("legacy", "service_role"))
        if public is None or server is None:
            raise SupabaseError(
                f"supabase: project {ref} returned no usable API keys (need a publishable and a "
                "secret key, or the legacy anon and service_role keys); create them in the "
                "dashboard (Settings -> API Keys) and run `pulumi up` again"
            )
        return ApiKeys(public[1], server[1], public[0], server[0])

    def apply_ssl_enforcement(self, ref: str, enabled: bool) -> bool:
        """Require (or stop requiring) TLS for database connections; True once applied."""
        answer = self.request(
            "PUT",
            f"/v1/projects/{ref}/ssl-enforcement",
            body={"requestedConfig": {"database": enabled}},
        )
        return bool((answer or {}).get("appliedSuccessfully", True))

    def apply_network_restrictions(
        self,
        ref: str,
        cidrs: Sequence[str],
        *,
        deadline_s: float = RESTRICTIONS_DEADLINE_S,
        poll_s: float = 5.0,
    ) -> None:
        """Allow database connections only from `cidrs` (empty: from anywhere); returns once the
        API reports them `applied` (`stored` means accepted, not yet in force)."""
        v4, v6 = split_cidrs(cidrs or ALLOW_ALL)
        path = f"/v1/projects/{ref}/network-restrictions"
        answer = self.request(
            "POST", f"{path}/apply", body={"dbAllowedCidrs": v4, "dbAllowedCidrsV6": v6}
        )
        start = self._clock()
        while (status := str((answer or {}).get("status"))) != "applied":
            if self._clock() - start + poll_s > deadline_s:
                raise SupabaseRestrictionsPendingError(ref, status, deadline_s)
            log.info("supabase: network restrictions of %s are %s; waiting", ref, status)
            self._sleep(poll_s)
            answer = self.request("GET", path)

    def pooler(self, ref: str) -> Pooler:
        """The PRIMARY database's Supavisor endpoint; `SupabasePoolerError` when not reported."""
        answer = self.request("GET", f"/v1/projects/{ref}/config/database/pooler", missing_ok=True)
        return parse_pooler(ref, answer)

    def set_instance_size(self, ref: str, instance_size: str) -> None:
        """Resize the compute add-on (restarts the database)."""
        if instance_size == "nano":
            raise SupabaseSizeError(instance_size, ", ".join(RESIZABLE_SIZES))
        self.request(
            "PATCH",
            f"/v1/projects/{ref}/billing/addons",
            body={"addon_type": "compute_instance", "addon_variant": f"ci_{instance_size}"},
        )

    def selected_addon(self, ref: str, addon_type: str) -> str | None:
        """The variant id of the active add-on of `addon_type` (e.g. `pitr_14`), or None."""
        answer = self.request("GET", f"/v1/projects/{ref}/billing/addons")
        for addon in (answer or {}).get("selected_addons") or []:
            if isinstance(addon, dict) and addon.get("type") == addon_type:
                variant = (addon.get("variant") or {}).get("id")
                return str(variant) if variant else None
        return None

    def set_pitr(self, ref: str, days: int) -> None:
        """Point-in-time recovery with `days` of retention (0 removes the add-on; paid plans)."""
        if days and days not in PITR_DAYS:
            raise SupabaseError(
                f"supabase: PITR retention of {days} days has no add-on variant; set "
                f"mentora:supabasePitrDays to one of {', '.join(map(str, PITR_DAYS))} or 0"
            )
        if days:
            body = {"addon_type": "pitr", "addon_variant": f"pitr_{days}"}
            self.request("PATCH", f"/v1/projects/{ref}/billing/addons", body=body)
            return
        # The DELETE names the active variant: `.../addons/pitr` is a 404 and PITR stays billed.
        variant = self.selected_addon(ref, "pitr")
        if variant is None:
            log.info("supabase: project %s has no PITR add-on to remove", ref)
            return
        self.request("DELETE", f"/v1/projects/{ref}/billing/addons/{variant}")

    def update_database_password(self, ref: str, password: str) -> None:
        """Change the `postgres` role's password."""
        self.request("PATCH", f"/v1/projects/{ref}/database/password", body={"password": password})


def _pick(found: dict[tuple[str, str], str], *wanted: tuple[str, str]) -> tuple[str, str] | None:
    """(kind, key) of the first `wanted` (kind, name) present."""
    return next(((kind, found[(kind, n)]) for kind, n in wanted if (kind, n) in found), None)
