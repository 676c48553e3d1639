"""A small typed client for the Supabase Management API (`https://api.supabase.com/v1`).

Endpoint shapes as used by supabase/cli and supabase/terraform-provider-supabase (pkg/api):

- ``POST /v1/projects`` {name, db_pass, organization_slug, region_selection: {type: "specific",
  code}, desired_instance_size?} -> 201 {id, ref, status}
- ``GET /v1/projects/{ref}`` -> {status: COMING_UP ... ACTIVE_HEALTHY}; ``DELETE`` removes it
- ``GET /v1/projects/{ref}/api-keys?reveal=true`` -> [{name: "anon" | "service_role", api_key}]
- ``PUT /v1/projects/{ref}/ssl-enforcement`` {requestedConfig: {database: bool}}
- ``POST /v1/projects/{ref}/network-restrictions/apply`` {dbAllowedCidrs, dbAllowedCidrsV6}
  (replaces both lists)
- ``GET /v1/projects/{ref}/config/database/pooler`` -> [{database_type, db_host, db_port,
  db_user, db_name, pool_mode}]
- ``PATCH /v1/projects/{ref}/billing/addons`` {addon_type: "compute_instance",
  addon_variant: "ci_<size>"}; ``PATCH /v1/projects/{ref}/database/password`` {password}

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
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote

from components.cloud.errors import SupabaseError, SupabaseNotHealthyError
from components.cloud.supabase_http import SupabaseHttp

HEALTHY = "ACTIVE_HEALTHY"
# Statuses a project does not leave by waiting: fail at once rather than at the deadline.
FINAL_BAD_STATUSES = frozenset(
    {"INIT_FAILED", "REMOVED", "GOING_DOWN", "PAUSE_FAILED", "RESTORE_FAILED"}
)
# No restriction at all, stated explicitly (what an empty allow-list means to this client).
ALLOW_ALL = ("0.0.0.0/0", "::/0")
POOLER_PORT = 6543  # the shared pooler's transaction-mode port

log = logging.getLogger(__name__)


class ApiKeys(NamedTuple):
    """A project's legacy JWT keys: `anon` (public) and `service_role` (bypasses RLS)."""

    anon: str
    service_role: str


@dataclass(frozen=True)
class Pooler:
    """The primary database's Supavisor endpoint as the API reports it (no password)."""

    host: str
    port: int
    user: str
    database: str
    pool_mode: str


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
            if status in FINAL_BAD_STATUSES:
                raise SupabaseNotHealthyError(label, ref, status, "will not become healthy")
            elapsed = self._clock() - start
            if elapsed + poll_s > deadline_s:
                reason = f"was not {HEALTHY} within {deadline_s:.0f}s"
                raise SupabaseNotHealthyError(label, ref, status, reason)
            log.info("supabase: project %s is %s after %.0fs; waiting", label, status, elapsed)
            self._sleep(poll_s)

    def delete_project(self, ref: str) -> bool:
        """Delete the project; False when it was already gone."""
        return self.request("DELETE", f"/v1/projects/{ref}", missing_ok=True) is not None

    def api_keys(self, ref: str) -> ApiKeys:
        """The legacy `anon` and `service_role` keys (revealed)."""
        answer = self.request("GET", f"/v1/projects/{ref}/api-keys", params={"reveal": "true"})
        keys = {
            str(k.get("name")): str(k.get("api_key") or "")
            for k in answer or []
            if isinstance(k, dict) and k.get("type") in (None, "legacy")
        }
        if not keys.get("anon") or not keys.get("service_role"):
            raise SupabaseError(
                f"supabase: project {ref} returned no legacy anon/service_role API keys; "
                "enable the legacy API keys in the dashboard (Settings -> API Keys)"
            )
        return ApiKeys(keys["anon"], keys["service_role"])

    def apply_ssl_enforcement(self, ref: str, enabled: bool) -> bool:
        """Require (or stop requiring) TLS for database connections; True once applied."""
        answer = self.request(
            "PUT",
            f"/v1/projects/{ref}/ssl-enforcement",
            body={"requestedConfig": {"database": enabled}},
        )
        return bool((answer or {}).get("appliedSuccessfully", True))

    def apply_network_restrictions(self, ref: str, cidrs: Sequence[str]) -> None:
        """Allow database connections only from `cidrs` (empty: from anywhere)."""
        v4, v6 = split_cidrs(cidrs or ALLOW_ALL)
        self.request(
            "POST",
            f"/v1/projects/{ref}/network-restrictions/apply",
            body={"dbAllowedCidrs": v4, "dbAllowedCidrsV6": v6},
        )

    def pooler(self, ref: str) -> Pooler | None:
        """The primary database's pooler (transaction mode preferred), None if not reported."""
        answer = self.request("GET", f"/v1/projects/{ref}/config/database/pooler", missing_ok=True)
        primary = [
            p
            for p in (answer if isinstance(answer, list) else [])
            if isinstance(p, dict) and p.get("database_type", "PRIMARY") == "PRIMARY"
        ]
        if not primary:
            return None
        chosen = next((p for p in primary if p.get("pool_mode") == "transaction"), primary[0])
        try:
            return Pooler(
                host=str(chosen["db_host"]),
                port=int(chosen["db_port"]),
                user=str(chosen["db_user"]),
                database=str(chosen.get("db_name") or "postgres"),
                pool_mode=str(chosen.get("pool_mode") or ""),
            )
        except (KeyError, TypeError, ValueError):
            return None  # an incomplete entry: the caller builds the documented default URL

    def set_instance_size(self, ref: str, instance_size: str) -> None:
        """Resize the compute add-on (restarts the database)."""
        self.request(
            "PATCH",
            f"/v1/projects/{ref}/billing/addons",
            body={"addon_type": "compute_instance", "addon_variant": f"ci_{instance_size}"},
        )

    def set_pitr(self, ref: str, days: int) -> None:
        """Point-in-time recovery with `days` of retention (0 removes the add-on; paid plans)."""
        if days:
            body = {"addon_type": "pitr", "addon_variant": f"pitr_{days}"}
            self.request("PATCH", f"/v1/projects/{ref}/billing/addons", body=body)
        else:
            self.request("DELETE", f"/v1/projects/{ref}/billing/addons/pitr", missing_ok=True)

    def update_database_password(self, ref: str, password: str) -> None:
        """Change the `postgres` role's password."""
        self.request("PATCH", f"/v1/projects/{ref}/database/password", body={"password": password})


def pooled_url(ref: str, password: str, region: str, pooler: Pooler | None) -> str:
    """The pooled (Supavisor) Postgres URL, TLS required.

    From the API's pooler entry when there is one; else the documented default: user
    `postgres.<ref>` on `aws-0-<region>.pooler.supabase.com:6543` (transaction mode). Newer
    projects may sit on other pooler hosts (`aws-1-...`), which only the API's entry reveals.
    """
    if pooler is None:
        host, port = f"aws-0-{region}.pooler.supabase.com", POOLER_PORT
        user, database = f"postgres.{ref}", "postgres"
    else:
        host, port, user, database = pooler.host, pooler.port, pooler.user, pooler.database
        # The shared pooler finds the tenant by the user name, which must read postgres.<ref>.
        if host.endswith(".pooler.supabase.com") and "." not in user:
            user = f"{user}.{ref}"
    return _postgres_url(user, password, host, port, database)


def direct_url(ref: str, password: str) -> str:
    """The direct Postgres URL `db.<ref>.supabase.co:5432` (IPv6 unless the IPv4 add-on is on)."""
    return _postgres_url("postgres", password, f"db.{ref}.supabase.co", 5432, "postgres")


def _postgres_url(user: str, password: str, host: str, port: int, database: str) -> str:
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
    return f"postgresql://{credentials}@{host}:{port}/{database}?sslmode=require"
