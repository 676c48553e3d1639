"""The Postgres side of `rotate <cloud stack> database`: the app's login, alternating between
two login roles as on the local stack (components/local/postgres_login.py's SQL, run as the
project's `postgres` through the session pooler). The order is rotation/cloud_driver.py's.

Until its first rotation the app logs in as `postgres`, which holds no ADMIN OPTION on itself
(PostgreSQL 16+; Supabase's schema grants it ADMIN on anon, authenticated, service_role), so it
cannot make a second login of itself. The first rotation therefore makes the app's group role
`mentora_app` with the local stack's privileges (NOLOGIN, BYPASSRLS, APP_ROLE_SQL: member of
anon, authenticated and service_role, the app's tables, sequences and functions, the migration
ledger read, nothing created in `public`), and the
login `mentora_app_a` in it, whose sessions start as `mentora_app`. The login is proven through
the pooler, as the app will use it (`mentora_app_a.<ref>`), before anything is switched: users
report custom roles refused by the shared pooler (supabase discussions #50229, #52595), and
such a project stops here with nothing switched. Retiring `postgres`' old password is a reset
(`up --replace` of the generated password, which the project applies with
v1-update-database-password): the app no longer uses it, the migrations follow it in the same
gated deploy. Later rotations alternate `mentora_app_a` / `mentora_app_b`; the old one is made
NOLOGIN without a password, and its URL shown refused.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components.cloud.supabase_db import login_url
from components.local.postgres_login import disable_others, set_login
from rotation.cloud_driver import Say, until
from rotation.cloud_supabase import credential, project
from rotation.journal import Entry
from rotation.pairs import other
from rotation.state import StackState, secret, unwrap

GROUP = "mentora_app"
ADMIN = "postgres"


@dataclass(frozen=True)
class Login:
    """The app's Postgres login as the state names it (the password never printed)."""

    name: str
    password: str


def ensure_group(conn: Any, database: str) -> None:
    """The app's group role with the local stack's privileges (components/local/
    postgres_role.py's APP_ROLE_SQL, stated once), made once; the migration ledger's tables,
    which already exist here, readable too."""
    from psycopg import sql

    from components.local.postgres_role import APP_ROLE_SQL

    group = sql.Identifier(GROUP)
    with conn.transaction():
        if not conn.execute("select 1 from pg_roles where rolname = %s", (GROUP,)).fetchone():
            conn.execute(sql.SQL("create role {} nologin bypassrls").format(group))
        conn.execute(
            sql.SQL(APP_ROLE_SQL).format(
                app=group, db=sql.Identifier(database), admin=sql.Identifier(ADMIN)
            )
        )
        conn.execute(
            sql.SQL("grant select on all tables in schema supabase_migrations to {}").format(group)
        )
        conn.execute(sql.SQL("revoke create on schema public from {}").format(group))


@dataclass
class SupabaseLogin:
    """The `database` kind's Postgres login on a cloud stack."""

    connect: Callable[[str], Any]
    """An autocommit psycopg connection to a URL."""
    logs_in: Callable[[str], bool]
    """Whether the pooler lets a URL in (False only for a refused password)."""
    reset_admin: Callable[[StackState], None]
    """Reset `postgres`' password through a gated `up --replace` (raises unless green)."""
    settle_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    name: str = "database"

    def _url(self, state: StackState, login: Login) -> str:
        found = project(state)
        return login_url(str(found["database_url"]), login.name, str(found["ref"]), login.password)

    def _admin(self, state: StackState) -> Any:
        return self.connect(str(project(state)["migrations_url"]))

    def current(self, state: StackState) -> Login:
        outputs = unwrap(credential(state, "-app-login").get("outputs") or {})
        return Login(str(outputs["name"]), str(outputs["secret"]))

    def identity(self, credential: Any) -> str:
        return str(credential.name)

    def public_name(self, credential: Any) -> str:
        return str(credential.name)

    def _until(self, state: StackState, login: Login, allowed: bool, what: str) -> None:
        url = self._url(state, login)
        until(lambda: self.logs_in(url), allowed, f"supabase: {what}", self.settle_s, self.sleep)

    def create(self, state: StackState, old: Login) -> Login:
        new = Login(other(old.name, GROUP), secrets.token_urlsafe(24))
        with self._admin(state) as conn:
            ensure_group(conn, "postgres")
            set_login(conn, new.name, GROUP, new.password)
        self._until(
            state,
            new,
            True,
            f"the pooler did not let {new.name} in (custom roles through "
            "the shared pooler: supabase discussions #50229, #52595); nothing was switched",
        )
        return new

    def name_new(self, state: StackState, old: Login, new: Login) -> None:
        outputs = credential(state, "-app-login").setdefault("outputs", {})
        outputs["name"], outputs["secret"] = new.name, secret(new.password)

    def saved(self, state: StackState, entry: Entry) -> bool:
        return self.current(state).name != entry.previous

    def undo(self, state: StackState, entry: Entry, say: Say) -> None:
        keep = self.current(state).name
        with self._admin(state) as conn:
            disabled = [role for role, could in disable_others(conn, keep, GROUP) if could]
        say(
            f"rotate database: undid an unfinished rotation ({', '.join(disabled) or 'no'} "
            "login disabled)"
        )

    def retire(self, state: StackState, entry: Entry, old: Login | None, say: Say) -> None:
        keep = self.current(state).name
        if entry.previous == ADMIN:
            self.reset_admin(state)  # the app logs in as `keep` now: the reset costs it nothing
            say("rotate database: `postgres` has a new password (the app no longer uses it)")
        else:
            with self._admin(state) as conn:
                disable_others(conn, keep, GROUP)
            say(f"rotate database: {entry.previous} can no longer log in (NOLOGIN, no password)")
        if old is not None:
            self._until(state, old, False, f"the retired login {entry.previous} still got in")
            say(f"rotate database: the pooler refuses the old login {entry.previous}")

    def repair(self, state: StackState, say: Say) -> str:
        """After a deploy, as the local stack's repair does: the login the state names logs in
        with the state's password, every other login of the pair cannot. A point-in-time
        restore to before a rotation rewinds the roles; this puts the state's back. A problem
        to report ("" when fine), naming the fix when `postgres` itself no longer gets in."""
        login = self.current(state)
        if login.name == ADMIN or self.logs_in(self._url(state, login)):
            return ""
        try:
            with self._admin(state) as conn:
                ensure_group(conn, "postgres")
                set_login(conn, login.name, GROUP, login.password)
                disable_others(conn, login.name, GROUP)
        except Exception as exc:  # noqa: BLE001 - named, without locals (they hold the URL)
            return (
                f"database: the app's login {login.name} does not get in, and `postgres` cannot "
                f"put it back ({type(exc).__name__}); if the project was restored to before a "
                f"`rotate {state.stack} database`, give it a fresh postgres password: "
                f"`pulumi up --stack {state.stack} --replace <the database-password URN>`"
            )
        say(
            f"database: {login.name} did not log in with the stack's password (restored to "
            "before a rotation?): set again, every other login of the pair disabled"
        )
        return ""
