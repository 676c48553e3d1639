"""`SupabaseProject`: one Supabase project, managed through the Management API.

PyPI's `pulumi-supabase` is abandoned, so a dynamic provider drives `SupabaseClient`:

- create: POST the project, wait until ACTIVE_HEALTHY, apply SSL enforcement (until it reads in
  force) and (when given) network restrictions (until `applied`), wait until the database is
  healthy again and accepts a connection on the session pooler (SSL enforcement restarts it),
  read the keys and pooler.
  A failed create records nothing in Pulumi's state, so any failure after the POST deletes the
  half-made project again (the error says whether that worked) instead of leaving an orphan.
- diff: `name`, `organization_slug` and `region` replace the project (the API cannot change
  them; a replacement is a new, empty database: set `protect=True` in prod). `instance_size`,
  `ssl_enforced`, `allowed_cidrs`, `pitr_days` (point-in-time recovery add-on), `db_password`
  and `access_token` are updated in place.
- update: resize (unless in force; wait until the status leaves ACTIVE_HEALTHY, i.e. the restart
  has begun, then healthy and connectable again: components/cloud/supabase_restart.py),
  password, SSL (in force, then connectable again), network
  restrictions, PITR (removal deletes the active `pitr_<days>` variant); re-read outputs.
- read (refresh): empty id when the project is gone (404 or REMOVED), else live status and keys.
- delete: DELETE the project; already gone is fine.

The provider object is pickled (dill) into the state: it holds no client, only numbers and an
optional transport factory (tests). Each call opens its own client with the resource's secret
`access_token`, which only travels in the Authorization header and is never logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.cloud.errors import SupabaseError, SupabaseSizeError
from components.cloud.supabase_api import RESIZABLE_SIZES, SupabaseClient, split_cidrs
from components.cloud.supabase_db import (
    READY_DEADLINE_S,
    Pooler,
    Probe,
    psycopg_probe,
    session_url,
    transaction_url,
    wait_connectable,
)
from components.cloud.supabase_http import TransportFactory
from components.cloud.supabase_restart import (
    RESTART_SHOWS_S,
    compute_in_force,
    wait_restart_shows,
    wait_ssl_in_force,
)

REPLACE_KEYS = ("name", "organization_slug", "region")
UPDATE_KEYS = (
    "instance_size",
    "ssl_enforced",
    "allowed_cidrs",
    "pitr_days",
    "db_password",
    "access_token",
)
INPUT_KEYS = (*REPLACE_KEYS, *UPDATE_KEYS)
SECRET_OUTPUTS = (
    "anon_key",
    "service_role_key",
    "database_url",
    "migrations_url",
    "direct_url",
    "access_token",
    "db_password",
)
OUTPUT_KEYS = (
    "ref",
    "url",
    "status",
    "anon_key",
    "anon_key_kind",
    "service_role_key",
    "service_role_key_kind",
    "database_url",
    "migrations_url",
    "direct_url",
)
WAIT_DEADLINE_S = 900.0  # provisioning usually takes 1-3 minutes
POLL_S = 10.0
_REQUIRED = ("name", "organization_slug", "region", "access_token", "db_password")


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    """The resource's inputs, normalised (outputs and `__provider` dropped)."""
    return {
        **{key: str(props[key]) for key in _REQUIRED},
        "instance_size": str(props["instance_size"]) if props.get("instance_size") else None,
        "ssl_enforced": bool(props.get("ssl_enforced", True)),
        "allowed_cidrs": [str(cidr) for cidr in props.get("allowed_cidrs") or []],
        "pitr_days": int(props.get("pitr_days") or 0),
    }


def _comparable(key: str, value: Any) -> Any:
    if key == "allowed_cidrs":
        return sorted(str(cidr) for cidr in value or [])
    if key == "instance_size":
        return value or None  # unset and "" both mean the API's default size
    return value


class SupabaseProjectProvider(ResourceProvider):
    """Owns the mapping of Pulumi's lifecycle onto `SupabaseClient` calls; holds no client."""

    def __init__(
        self,
        transport_factory: TransportFactory | None = None,
        *,
        wait_deadline_s: float = WAIT_DEADLINE_S,
        poll_s: float = POLL_S,
        probe: Probe | None = None,
        ready_deadline_s: float = READY_DEADLINE_S,
    ) -> None:
        super().__init__()
        self.transport_factory = transport_factory
        self.wait_deadline_s, self.poll_s = wait_deadline_s, poll_s
        self.probe, self.ready_deadline_s = probe, ready_deadline_s  # probe: tests only
        self.restart_shows_s = RESTART_SHOWS_S

    def _client(self, props: dict[str, Any], *secrets: str) -> SupabaseClient:
        transport = self.transport_factory() if self.transport_factory else None
        password = str(props.get("db_password") or "")
        token = str(props.get("access_token") or "")
        return SupabaseClient(token, transport=transport, secrets=(password, *secrets))

    def _wait(self, api: SupabaseClient, ref: str, inputs: dict[str, Any]) -> str:
        project = api.wait_healthy(ref, self.wait_deadline_s, self.poll_s, name=inputs["name"])
        return str(project.get("status"))

    def _ready(self, api: SupabaseClient, ref: str, inputs: dict[str, Any], pooler: Pooler) -> str:
        """Healthy again and accepting connections on the session pooler (after a restart)."""
        status = self._wait(api, ref, inputs)
        url = session_url(inputs["db_password"], pooler)
        probe = self.probe or psycopg_probe
        wait_connectable(
            ref, url, deadline_s=self.ready_deadline_s, poll_s=self.poll_s, probe=probe
        )
        return status

    @staticmethod
    def _outputs(
        api: SupabaseClient, ref: str, inputs: dict[str, Any], status: str, pooler: Pooler
    ) -> dict[str, Any]:
        keys, password = api.api_keys(ref), inputs["db_password"]
        migrations_url = session_url(password, pooler)
        return {
            **inputs,
            "ref": ref,
            "url": f"https://{ref}.supabase.co",
            "status": status,
            "anon_key": keys.anon,
            "anon_key_kind": keys.public_kind,
            "service_role_key": keys.service_role,
            "service_role_key_kind": keys.server_kind,
            "database_url": transaction_url(password, pooler),
            "migrations_url": migrations_url,
            "direct_url": migrations_url,  # deprecated alias: wire migrations_url instead
        }

    def _set_ssl(self, api: SupabaseClient, ref: str, enabled: bool) -> None:
        """Request it, then wait until it is in force (the restart it sets off comes after)."""
        api.apply_ssl_enforcement(ref, enabled)
        wait_ssl_in_force(api, ref, enabled, self.wait_deadline_s, self.poll_s)

    def _resize(self, api: SupabaseClient, ref: str, size: str) -> None:
        """Request `size` unless in force, and wait until the restart it sets off has begun."""
        if compute_in_force(api, ref, size):
            return
        api.set_instance_size(ref, size)
        wait_restart_shows(api, ref, size, self.restart_shows_s, self.poll_s)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [
            CheckFailure(key, f"supabase: {key} must not be empty")
            for key in _REQUIRED
            if news.get(key) == ""
        ]
        size = news.get("instance_size")
        if olds and size == "nano" and olds.get("instance_size") != "nano":
            error = SupabaseSizeError("nano", ", ".join(RESIZABLE_SIZES))
            failures.append(CheckFailure("instance_size", str(error)))
        cidrs = news.get("allowed_cidrs")
        if isinstance(cidrs, list) and all(isinstance(cidr, str) for cidr in cidrs):
            try:
                split_cidrs(cidrs)
            except SupabaseError as exc:
                failures.append(CheckFailure("allowed_cidrs", str(exc)))
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = _inputs(props)
        with self._client(inputs) as api:
            ref = api.create_project(
                inputs["name"],
                inputs["organization_slug"],
                inputs["region"],
                inputs["db_password"],
                inputs["instance_size"],
            )
            try:
                self._wait(api, ref, inputs)
                self._set_ssl(api, ref, inputs["ssl_enforced"])
                if inputs["allowed_cidrs"]:  # new projects accept connections from anywhere
                    api.apply_network_restrictions(ref, inputs["allowed_cidrs"])
                if inputs["pitr_days"]:
                    api.set_pitr(ref, inputs["pitr_days"])
                pooler = api.pooler(ref)
                status = self._ready(api, ref, inputs, pooler)
                outs = self._outputs(api, ref, inputs, status, pooler)
            except SupabaseError as exc:
                raise api.rolled_back(ref, exc) from exc
        return CreateResult(id_=ref, outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        def changed(keys: tuple[str, ...]) -> list[str]:
            return [k for k in keys if _comparable(k, olds.get(k)) != _comparable(k, news.get(k))]

        replaces, updates = changed(REPLACE_KEYS), changed(UPDATE_KEYS)
        # Create-before-delete: if the new project cannot be made, the old one is untouched.
        return DiffResult(
            changes=bool(replaces or updates), replaces=replaces, delete_before_replace=False
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs, before = _inputs(news), _inputs({**news, **olds})
        with self._client(inputs, before["db_password"]) as api:
            if inputs["db_password"] != before["db_password"]:
                api.update_database_password(id_, inputs["db_password"])
            resize = inputs["instance_size"] and inputs["instance_size"] != before["instance_size"]
            if resize:
                self._resize(api, id_, inputs["instance_size"])
            status = self._wait(api, id_, inputs) if resize else api.status(id_)
            restart = inputs["ssl_enforced"] != before["ssl_enforced"]
            if restart:
                self._set_ssl(api, id_, inputs["ssl_enforced"])
            if sorted(inputs["allowed_cidrs"]) != sorted(before["allowed_cidrs"]):
                api.apply_network_restrictions(id_, inputs["allowed_cidrs"])
            if inputs["pitr_days"] != before["pitr_days"]:
                api.set_pitr(id_, inputs["pitr_days"])
            pooler = api.pooler(id_)
            if restart or resize:  # both restart the database
                status = self._ready(api, id_, inputs, pooler)
            return UpdateResult(outs=self._outputs(api, id_, inputs, status, pooler))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self._client(props) as api:
            project = api.get_project(id_)
            if project is None or project.get("status") == "REMOVED":
                return ReadResult(id_="", outs={})
            status = str(project.get("status"))
            outs = self._outputs(api, id_, _inputs(props), status, api.pooler(id_))
        return ReadResult(id_=id_, outs={**props, **outs})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self._client(props) as api:
            api.delete_project(id_)


class SupabaseProject(Resource):
    """One Supabase project: its database, API keys and connection URLs (`*` = secret).

    >>> project = SupabaseProject(  # doctest: +SKIP
    ...     "database-project", name="mentora-prod", organization_slug="acme",
    ...     region="eu-central-1", access_token=token, db_password=password.result)
    """

    ref: pulumi.Output[str]
    """The project ref (also the resource id)."""
    url: pulumi.Output[str]
    """`https://<ref>.supabase.co` (NEXT_PUBLIC_SUPABASE_URL)."""
    status: pulumi.Output[str]
    """The project status at the last create/update/refresh (ACTIVE_HEALTHY when usable)."""
    anon_key: pulumi.Output[str]
    """* Public key (NEXT_PUBLIC_SUPABASE_ANON_KEY): `sb_publishable_...`, else the anon JWT."""
    anon_key_kind: pulumi.Output[str]
    """Which kind `anon_key` is: `publishable` or `legacy`."""
    service_role_key: pulumi.Output[str]
    """* Server key, bypasses RLS (SUPABASE_SERVICE_ROLE_KEY): `sb_secret_...`, else the JWT."""
    service_role_key_kind: pulumi.Output[str]
    """Which kind `service_role_key` is: `secret` or `legacy`."""
    database_url: pulumi.Output[str]
    """* Transaction-mode pooler URL (port 6543 of the API's PRIMARY entry), `sslmode=require`."""
    migrations_url: pulumi.Output[str]
    """* Session-mode pooler URL (port 5432, same host): what migrations must connect to."""
    direct_url: pulumi.Output[str]
    """* Deprecated alias of `migrations_url` (it was `db.<ref>.supabase.co`, IPv6-only)."""

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        organization_slug: pulumi.Input[str],
        region: pulumi.Input[str],
        access_token: pulumi.Input[str],
        db_password: pulumi.Input[str],
        instance_size: pulumi.Input[str] | None = None,
        ssl_enforced: pulumi.Input[bool] = True,
        allowed_cidrs: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        pitr_days: pulumi.Input[int] = 0,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "name": name,
            "organization_slug": organization_slug,
            "region": region,
            "access_token": pulumi.Output.secret(access_token),
            "db_password": pulumi.Output.secret(db_password),
            "instance_size": instance_size,
            "ssl_enforced": ssl_enforced,
            "allowed_cidrs": allowed_cidrs or [],
            "pitr_days": pitr_days,
            **{key: None for key in OUTPUT_KEYS},
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        super().__init__(
            SupabaseProjectProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret),
        )
