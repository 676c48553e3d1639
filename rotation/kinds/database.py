"""Postgres: two login roles, alternating. The app's role (`mentora_app`, the `appUser` setting)
keeps every grant, default privilege, policy membership and BYPASSRLS it had; after the first
rotation it is the group and the app logs in as `<app>_a` or `<app>_b`, a member of it whose
sessions start as it (`ALTER ROLE ... SET role`), so `current_user`, RLS and object ownership
are what they were. Revoking a login role is `NOLOGIN` + no password, then ending its sessions.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from components.local.postgres_login import disable_others, set_login
from rotation.kinds import Created, NotRefused
from rotation.pairs import other
from rotation.state import StackState

RESOURCE = "database-server"


def _admin(out: dict[str, Any]) -> Any:
    import psycopg

    return psycopg.connect(str(out["admin_url"]), connect_timeout=5, autocommit=True)


def _with_login(url: str, login: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{login}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


class Database:
    """Rotates the app's Postgres login between two member roles of its group role."""

    name = "database"

    def create(self, state: StackState) -> Created:

        out = state.outputs(RESOURCE)
        group = str(out["app_user"])
        current = str(out.get("app_login") or group)
        new = other(current, group)
        password = secrets.token_urlsafe(24)
        with _admin(out) as conn:
            set_login(conn, new, group, password)
        old_url = str(out["app_url"])
        new_url = _with_login(old_url, new, password)
        return Created(
            self.name,
            {old_url: new_url, str(out["app_password"]): password},
            {"url": old_url, "login": current},
            outputs={(RESOURCE, "app_login"): new},
        )

    def revoke_others(self, state: StackState) -> list[str]:
        out = state.outputs(RESOURCE)
        group = str(out["app_user"])
        keep = str(out.get("app_login") or group)
        revoked = []
        with _admin(out) as conn:
            for role, could_login in disable_others(conn, keep, group):
                conn.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity where usename = %s",
                    (role,),
                )
                if could_login:
                    revoked.append(f"postgres login {role}")
        return revoked

    def refused(self, state: StackState, old: dict[str, str]) -> str:
        import psycopg

        try:
            with psycopg.connect(old["url"], connect_timeout=5):
                pass
        except psycopg.OperationalError as exc:
            lines = [line for line in str(exc).splitlines() if "FATAL" in line]
            return f"postgres: {(lines or [str(exc).splitlines()[-1]])[0].strip()}"
        raise NotRefused(f"postgres: {old['login']} can still log in")
