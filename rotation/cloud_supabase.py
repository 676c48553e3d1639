"""Supabase secret API keys (`sb_secret_...`), rotated with two alive across the switch through
the Management API (spec: supabase/cli packages/api/src/generated/openapi.json):

- `POST /v1/projects/{ref}/api-keys?reveal=true` `{type: "secret", name, description}`
  (v1-create-project-api-key; `name` matches `^[a-z_][a-z0-9_]+$`, 4-64 characters) -> 201
  ApiKeyResponse `{id, name, type, api_key}`;
- the app's env (Vercel) gets the new key and the app is redeployed with it (Vercel applies env
  changes to new deployments only), smoked, promoted;
- `DELETE /v1/projects/{ref}/api-keys/{id}` (v1-delete-project-api-key) removes the old one.

Keys alternate between two names, `<base>_a` and `<base>_b`, so a leftover of an interrupted
rotation is recognised by name and removed before a new one is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.cloud.supabase_http import SupabaseHttp
from rotation.pairs import other
from rotation.state import StackState, unwrap

DYNAMIC = "pulumi-python:dynamic:Resource"
IN_DATABASE = "mentora:infra:SupabaseDatabase$"


def project(state: StackState) -> dict[str, Any]:
    """The stack's Supabase project as the state has it: inputs and outputs, secrets decoded."""
    found = state.one(DYNAMIC, IN_DATABASE, "-project")
    return {**unwrap(found.get("inputs") or {}), **unwrap(found.get("outputs") or {})}


def credential(state: StackState, suffix: str) -> dict[str, Any]:
    """One of the database's `AppCredential` resources (`-app-login`, `-service-key`)."""
    return state.one(DYNAMIC, IN_DATABASE, suffix)


@dataclass(frozen=True)
class SecretKey:
    """A project's secret API key (`api_key` only when revealed at creation)."""

    id: str
    name: str
    api_key: str = ""


class SecretKeys:
    """Creates and deletes one project's alternating secret keys."""

    def __init__(self, http: SupabaseHttp, ref: str, base: str = "mentora_app") -> None:
        self.http, self.ref, self.base = http, ref, base

    def list(self) -> list[SecretKey]:
        answer: Any = self.http.request("GET", f"/v1/projects/{self.ref}/api-keys")
        return [
            SecretKey(str(k["id"]), str(k["name"]))
            for k in answer or []
            if k.get("type") == "secret" and k.get("id")
        ]

    def begin(self, current_id: str) -> SecretKey:
        """Make the other key of the pair (a leftover of that name is deleted first)."""
        keys = self.list()
        current = next((k for k in keys if k.id == current_id), None)
        name = other(current.name if current is not None else "", self.base)
        for leftover in (k for k in keys if k.name == name and k.id != current_id):
            self.delete(leftover.id)
        created: Any = self.http.request(
            "POST",
            f"/v1/projects/{self.ref}/api-keys",
            params={"reveal": "true"},
            body={"type": "secret", "name": name, "description": "mentora-infra rotate"},
            idempotent=False,
        )
        return SecretKey(str(created["id"]), str(created["name"]), str(created["api_key"]))

    def delete(self, key_id: str) -> None:
        self.http.request("DELETE", f"/v1/projects/{self.ref}/api-keys/{key_id}", missing_ok=True)

    def disable_legacy(self) -> None:
        """Disable the project's legacy JWT keys, anon and service_role together
        (v1-update-project-legacy-api-keys: `PUT .../api-keys/legacy?enabled=false`)."""
        self.http.request(
            "PUT", f"/v1/projects/{self.ref}/api-keys/legacy", params={"enabled": "false"}
        )
