"""Checks of the Data API the app reads through (supabase-js -> PostgREST at `/rest/v1`).

Plain functions (usable outside pytest: bench, the gate); each raises `DataApiError` naming the
service, the request, what came back and the fix. Requests follow PostgREST/Supabase docs:
`GET {NEXT_PUBLIC_SUPABASE_URL}/rest/v1/<table>?select=id&limit=1` with the key in the `apikey`
header; a legacy JWT key (`anon`, `service_role`) also as `Authorization: Bearer`, a new
`sb_publishable_`/`sb_secret_` key never there, since the gateway rejects a bearer value that is
not a JWT (https://supabase.com/docs/guides/api/api-keys).
A refused privilege is PostgreSQL 42501, which PostgREST answers as 401/403 with
`{"code": "42501", ...}` (https://docs.postgrest.org/en/latest/references/errors.html).

>>> api = data_api_of(outputs.env, outputs.stack)  # doctest: +SKIP
>>> with httpx.Client(timeout=3) as client:  # doctest: +SKIP
...     check_public_key_sees_no_private_rows(client, api)
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from smoke.checks.common import endpoint, fix_hint, what_happened

SERVICE = "data_api"
NO_DATA_API = "the local stack has no Data API (PostgREST cannot be had on this machine; see docs)"
PRIVATE_TABLE = "students"  # RLS: only its own student (and the creator) may read a row
CATALOGUE = "achievements"  # RLS: `achievements_catalogue` lets every signed-in user read it
RLS_FILE = "supabase/migrations/20251020100400_rls_policies.sql"
REFUSED = "42501"  # insufficient_privilege


class DataApiError(Exception):
    """Raised when a Data API check fails; the message is one line, with no key in it."""


@dataclass(frozen=True)
class DataApi:
    """Where the stack's Data API is and the two keys the app holds (never in `repr`)."""

    url: str
    public_key: str = field(repr=False)
    server_key: str = field(repr=False)
    stack: str = "file"


def data_api_of(env: Mapping[str, str], stack: str) -> DataApi | None:
    """The stack's Data API from its `env` output, or None when it has none (local).

    >>> data_api_of({}, "local") is None
    True
    """
    url = env.get("NEXT_PUBLIC_SUPABASE_URL", "").rstrip("/")
    if not url:
        return None
    names = ("NEXT_PUBLIC_SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY")
    public, server = (env.get(name, "") for name in names)
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise DataApiError(
            f"{SERVICE}: the env output has NEXT_PUBLIC_SUPABASE_URL but no {', '.join(missing)}; "
            f"the app cannot read data without it: {fix_hint(stack, 'rejected the credentials')}"
        )
    return DataApi(url, public, server, stack)


NEW_KEY_PREFIX = "sb_"


def key_headers(key: str) -> dict[str, str]:
    """The headers that carry `key`: `apikey` alone for an `sb_...` key, plus the bearer for a
    legacy JWT key.

    >>> sorted(key_headers("sb_publishable_x"))
    ['apikey']
    """
    if key.startswith(NEW_KEY_PREFIX):
        return {"apikey": key}
    return {"apikey": key, "Authorization": f"Bearer {key}"}


def select(client: httpx.Client, api: DataApi, key: str, table: str) -> httpx.Response:
    """`GET /rest/v1/<table>?select=id&limit=1` with `key`; no answer raises `DataApiError`."""
    url = f"{api.url}/rest/v1/{table}"
    headers = {**key_headers(key), "Accept": "application/json"}
    try:
        return client.get(url, params={"select": "id", "limit": "1"}, headers=headers)
    except httpx.HTTPError as exc:
        happened = what_happened(exc)
        raise DataApiError(
            f"{SERVICE}: GET /rest/v1/{table} at {endpoint(api.url)} {happened} "
            f"({fix_hint(api.stack, happened)})"
        ) from None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _said(response: httpx.Response) -> str:
    body = _body(response)
    if isinstance(body, dict):
        text = " ".join(str(body[k]) for k in ("code", "message") if body.get(k))
        return f" ({text[:160]})" if text else ""
    return ""


def _fail(api: DataApi, table: str, who: str, response: httpx.Response, fix: str) -> DataApiError:
    return DataApiError(
        f"{SERVICE}: GET /rest/v1/{table} with the {who} answered {response.status_code}"
        f"{_said(response)}; {fix}"
    )


def _key_fix(api: DataApi, response: httpx.Response) -> str:
    if response.status_code == 404:
        return (
            "no such table in the Data API: is NEXT_PUBLIC_SUPABASE_URL the project's URL and "
            f"were the migrations applied? {fix_hint(api.stack, 'answered 404')}"
        )
    if response.status_code == 401:
        hint = fix_hint(api.stack, "rejected the credentials")
        return f"the key was rejected (revoked or rotated?): {hint}"
    return fix_hint(api.stack, "failed")


def check_public_key_sees_no_private_rows(client: httpx.Client, api: DataApi) -> None:
    """The public (anon/publishable) key reads no row of a private table: 200 `[]`, or the
    privilege refused (42501) since the migrations revoke every table privilege from anon."""
    response = select(client, api, api.public_key, PRIVATE_TABLE)
    body = _body(response)
    if response.status_code == 200 and body == []:
        return
    if (
        response.status_code in (401, 403)
        and isinstance(body, dict)
        and body.get("code") == REFUSED
    ):
        return
    if response.status_code == 200:
        raise DataApiError(
            f"{SERVICE}: the public key read {len(body) if isinstance(body, list) else '?'} "
            f"row(s) of {PRIVATE_TABLE}: RLS or grants leak private data; check {RLS_FILE}"
        )
    raise _fail(api, PRIVATE_TABLE, "public key", response, _key_fix(api, response))


def check_server_key_reads(client: httpx.Client, api: DataApi) -> None:
    """The server (service_role/secret) key may read the private table: 200 with a list."""
    response = select(client, api, api.server_key, PRIVATE_TABLE)
    if response.status_code == 200 and isinstance(_body(response), list):
        return
    raise _fail(api, PRIVATE_TABLE, "server key", response, _key_fix(api, response))


def check_catalogue_as_policies_allow(client: httpx.Client, api: DataApi) -> None:
    """`achievements` as the policies allow: the public key gets no row (select is granted to
    `authenticated` only, and anon holds no privilege); the server key reads the seeded rows."""
    public = select(client, api, api.public_key, CATALOGUE)
    body = _body(public)
    leaked = public.status_code == 200 and body != []
    refused = (
        public.status_code in (401, 403) and isinstance(body, dict) and body.get("code") == REFUSED
    )
    if leaked or not (refused or public.status_code == 200):
        fix = f"anon must not read it ({RLS_FILE})" if leaked else _key_fix(api, public)
        raise _fail(api, CATALOGUE, "public key", public, fix)
    server = select(client, api, api.server_key, CATALOGUE)
    rows = _body(server)
    if server.status_code != 200 or not isinstance(rows, list) or not rows:
        fix = (
            "the catalogue is empty: was supabase/migrations/20251020100500_seed_achievements.sql "
            "applied?"
            if server.status_code == 200
            else _key_fix(api, server)
        )
        raise _fail(api, CATALOGUE, "server key", server, fix)


def check_unknown_key_refused(client: httpx.Client, api: DataApi) -> None:
    """A key the project never issued is refused with 401."""
    response = select(client, api, f"sb_publishable_{secrets.token_hex(12)}", PRIVATE_TABLE)
    if response.status_code != 401:
        raise _fail(
            api,
            PRIVATE_TABLE,
            "an unknown key",
            response,
            "expected 401: the API gateway in front of the Data API does not check keys",
        )
