"""The local app role's managed settings: its attributes, memberships and grants.

`PostgresServer` creates the role (`APP_ROLE_CREATE_SQL`, `APP_ROLE_SQL`); `observe` reads it
back from the catalog in words (`superuser` -> `no`) so `mentora-infra drift` can name a change
made out of band (a `GRANT`, an `ALTER ROLE ... SUPERUSER`), and `repair` puts it back with
ALTER ROLE / GRANT / REVOKE in one transaction: no restart, no row touched.
"""

from __future__ import annotations

from typing import Any

Managed = dict[str, str]

# The app role's privileges, granted once at create: it reads and writes the app's tables (RLS
# still applies to the roles it becomes), runs the app's functions, reads the migration ledger.
APP_ROLE_SQL = """
grant anon, authenticated, service_role to {app};
grant connect, temporary on database {db} to {app};
create schema if not exists supabase_migrations;
grant usage on schema public, extensions, auth, supabase_migrations to {app};
grant all on all tables in schema public to {app};
grant all on all sequences in schema public to {app};
alter default privileges for role {admin} in schema public grant all on tables to {app};
alter default privileges for role {admin} in schema public grant all on sequences to {app};
alter default privileges for role {admin} in schema public grant execute on functions to {app};
alter default privileges for role {admin} in schema supabase_migrations
  grant select on tables to {app};
"""
APP_ROLE_CREATE_SQL = (
    "create role {app} login password {password} nosuperuser nocreatedb nocreaterole bypassrls"
)

# Attribute -> (pg_roles column, the stack's value). BYPASSRLS like Supabase's service role.
ATTRIBUTES = {
    "superuser": ("rolsuper", False),
    "bypassrls": ("rolbypassrls", True),
    "createrole": ("rolcreaterole", False),
    "createdb": ("rolcreatedb", False),
    "replication": ("rolreplication", False),
}
MEMBER_OF = ("anon", "authenticated", "service_role")
DATABASE_PRIVILEGES = ("CONNECT", "TEMPORARY")
EXPECTED: Managed = {
    **{f"app role {name}": "yes" if value else "no" for name, (_, value) in ATTRIBUTES.items()},
    "app role member of": ",".join(MEMBER_OF),
    "app role database privileges": ",".join(DATABASE_PRIVILEGES),
    "app role creates in schema public": "no",
}


def observe(conn: Any, app: str, database: str) -> Managed:
    """The app role as the catalog says, in `EXPECTED`'s words."""
    columns = ", ".join(column for column, _ in ATTRIBUTES.values())
    row = conn.execute(f"select {columns} from pg_roles where rolname = %s", (app,)).fetchone()
    if row is None:
        return {"app role superuser": "role missing"}
    member_of = conn.execute(
        "select coalesce(string_agg(r.rolname, ',' order by r.rolname), '') from pg_auth_members m"
        " join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member"
        " where u.rolname = %s",
        (app,),
    ).fetchone()[0]
    privileges = [
        p
        for p in ("CREATE", "CONNECT", "TEMPORARY")
        if conn.execute("select has_database_privilege(%s, %s, %s)", (app, database, p)).fetchone()[
            0
        ]
    ]
    creates = conn.execute("select has_schema_privilege(%s, 'public', 'CREATE')", (app,)).fetchone()
    return {
        **{
            f"app role {name}": "yes" if value else "no"
            for (name, _), value in zip(ATTRIBUTES.items(), row, strict=True)
        },
        "app role member of": member_of,
        "app role database privileges": ",".join(privileges),
        "app role creates in schema public": "yes" if creates[0] else "no",
    }


def repair(conn: Any, app: str, database: str, drifted: Managed) -> None:
    """Put the app role back as `EXPECTED` says, in one transaction (all or nothing)."""
    from psycopg import sql

    role, db = sql.Identifier(app), sql.Identifier(database)
    with conn.transaction():
        words = [("" if value else "NO") + name.upper() for name, (_, value) in ATTRIBUTES.items()]
        conn.execute(sql.SQL("alter role {} " + " ".join(words)).format(role))
        current = observe(conn, app, database)["app role member of"]
        for extra in sorted(set(filter(None, current.split(","))) - set(MEMBER_OF)):
            conn.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(extra), role))
        conn.execute(
            sql.SQL("grant {} to {}").format(
                sql.SQL(", ").join(map(sql.Identifier, MEMBER_OF)), role
            )
        )
        conn.execute(sql.SQL("revoke create on database {} from {}").format(db, role))
        conn.execute(sql.SQL("grant connect, temporary on database {} to {}").format(db, role))
        conn.execute(sql.SQL("revoke create on schema public from {}").format(role))


# After `mentora-infra rotate`, the app logs in as a member of its role (`<app>_a`/`_b`) whose
# sessions start as the app role: that login role must hold nothing of its own either.
LOGIN_ATTRIBUTES = ("superuser", "createrole", "createdb", "replication", "bypassrls")


def login_expected(login: str, app: str) -> Managed:
    """What the stack's current login role (when it is not the app role itself) must be."""
    if login == app:
        return {}
    return {
        **{f"app login role {name}": "no" for name in LOGIN_ATTRIBUTES},
        "app login role member of": app,
    }


def login_observe(conn: Any, login: str, app: str) -> Managed:
    """The login role as the catalog says, in `login_expected`'s words."""
    if login == app:
        return {}
    columns = ", ".join(ATTRIBUTES[name][0] for name in LOGIN_ATTRIBUTES)
    row = conn.execute(f"select {columns} from pg_roles where rolname = %s", (login,)).fetchone()
    if row is None:
        return {"app login role superuser": "role missing"}
    member_of = conn.execute(
        "select coalesce(string_agg(r.rolname, ',' order by r.rolname), '') from pg_auth_members m"
        " join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member"
        " where u.rolname = %s",
        (login,),
    ).fetchone()[0]
    return {
        **{
            f"app login role {name}": "yes" if value else "no"
            for name, value in zip(LOGIN_ATTRIBUTES, row, strict=True)
        },
        "app login role member of": member_of,
    }


def login_repair(conn: Any, login: str, app: str) -> None:
    """Strip the login role back to a plain member of the app role (one transaction)."""
    from psycopg import sql

    if login == app:
        return
    role = sql.Identifier(login)
    with conn.transaction():
        words = " ".join(f"NO{name.upper()}" for name in LOGIN_ATTRIBUTES)
        conn.execute(sql.SQL("alter role {} " + words).format(role))
        current = login_observe(conn, login, app)["app login role member of"]
        for extra in sorted(set(filter(None, current.split(","))) - {app}):
            conn.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(extra), role))
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(app), role))
