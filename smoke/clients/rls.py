"""Row level security as Supabase's API meets it, proven on synthetic people inside one
transaction that is always rolled back: nothing is ever committed, so it is safe on prod.

A creator with a draft video, quiz and project, and two of their students (`a`, `b`) with one
row of every kind of activity, are inserted by the stack's own role (which bypasses RLS, like
Supabase's `postgres`); then each student reads as `authenticated` with their JWT claims, and
nobody reads as `anon` without claims.

>>> people = People.new("0123abcd")
>>> [s.name for s in people.students], len(seed_statements(people, "0123abcd"))
(['a', 'b'], 14)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

# Rows a student owns: they must read exactly their own, and nobody else's at all.
STUDENT_TABLES: tuple[str, ...] = (
    "students",
    "chat_sessions",
    "chat_messages",
    "calendar_events",
    "video_progress",
    "quiz_attempts",
    "project_submissions",
    "student_achievements",
)
# A creator's unpublished content: no student may read it.
DRAFT_TABLES: tuple[str, ...] = ("videos", "quizzes", "projects")
# Tables the seed writes (plus auth.users): the stack's role needs INSERT on each.
SEEDED_TABLES: tuple[str, ...] = ("creators", *DRAFT_TABLES, "achievements", *STUDENT_TABLES)


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Person:
    """A synthetic signed-in user: their auth id and the id of each row they own, by table."""

    name: str
    user_id: str = field(default_factory=_new_id)
    rows: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class People:
    """The creator (with their drafts and an achievement) and their two students."""

    creator: Person
    students: tuple[Person, Person]
    achievement_id: str

    @classmethod
    def new(cls, run_id: str) -> People:
        """Fresh ids for everyone; `run_id` only tags what a human could see (email, keys)."""
        tables = ("creators", *DRAFT_TABLES)
        creator = Person(f"creator-{run_id}", rows={t: _new_id() for t in tables})
        students = tuple(Person(n, rows={t: _new_id() for t in STUDENT_TABLES}) for n in "ab")
        return cls(creator, (students[0], students[1]), _new_id())

    @property
    def everyone(self) -> tuple[Person, ...]:
        return (self.creator, *self.students)

    def others(self, viewer: Person, table: str) -> list[str]:
        """Synthetic rows of `table` that `viewer` must not read (another's, or a draft)."""
        return [p.rows[table] for p in self.everyone if p is not viewer and table in p.rows]


def seed_statements(people: People, run_id: str) -> list[tuple[str, tuple[Any, ...]]]:
    """The inserts that create `people`, in foreign-key order (auth.users first)."""
    c, (a, b) = people.creator, people.students
    draft = c.rows
    statements: list[tuple[str, tuple[Any, ...]]] = [
        (
            "insert into auth.users (id, email) values (%s, %s), (%s, %s), (%s, %s)",
            tuple(
                v
                for p in (c, a, b)
                for v in (p.user_id, f"smoke-{run_id}-{p.name}@mentora.invalid")
            ),
        ),
        (
            "insert into public.creators (id, user_id, display_name) values (%s, %s, 'smoke')",
            (draft["creators"], c.user_id),
        ),
        (
            "insert into public.videos (id, creator_id, title, storage_key) "
            "values (%s, %s, 'smoke draft', %s)",
            (draft["videos"], draft["creators"], f"smoke/{run_id}/rls-draft"),
        ),
        (
            "insert into public.quizzes (id, creator_id, title) values (%s, %s, 'smoke draft')",
            (draft["quizzes"], draft["creators"]),
        ),
        (
            "insert into public.projects (id, creator_id, title, brief) "
            "values (%s, %s, 'smoke draft', 'smoke')",
            (draft["projects"], draft["creators"]),
        ),
        (
            "insert into public.achievements (id, code, name, description) "
            "values (%s, %s, 'smoke', 'smoke')",
            (people.achievement_id, f"smoke_{run_id}"),
        ),
    ]
    per_student = {
        "students": ("user_id, creator_id, display_name", "%s, %s, 'smoke'", "user", "creator"),
        "chat_sessions": ("student_id", "%s", "student"),
        "chat_messages": ("session_id, role, content", "%s, 'user', 'smoke'", "session"),
        "calendar_events": (
            "student_id, title, starts_at, ends_at",
            "%s, 'smoke', now(), now() + interval '1 hour'",
            "student",
        ),
        "video_progress": ("student_id, video_id", "%s, %s", "student", "video"),
        "quiz_attempts": ("student_id, quiz_id", "%s, %s", "student", "quiz"),
        "project_submissions": ("student_id, project_id", "%s, %s", "student", "project"),
        "student_achievements": ("student_id, achievement_id", "%s, %s", "student", "award"),
    }
    for table, (columns, values, *refs) in per_student.items():
        params: list[Any] = []
        for s in (a, b):
            known = {
                "user": s.user_id,
                "creator": draft["creators"],
                "student": s.rows["students"],
                "session": s.rows["chat_sessions"],
                "video": draft["videos"],
                "quiz": draft["quizzes"],
                "project": draft["projects"],
                "award": people.achievement_id,
            }
            params += [s.rows[table], *(known[r] for r in refs)]
        row = f"(%s, {values})"
        sql = f"insert into public.{table} (id, {columns}) values {row}, {row}"
        statements.append((sql, tuple(params)))
    return statements


def claims(user_id: str | None) -> str:
    """The `request.jwt.claims` PostgREST sets for a signed-in user; empty for `anon`.

    >>> claims(None)
    ''
    """
    return json.dumps({"sub": user_id, "role": "authenticated"}) if user_id else ""


def visibility_query(tables: tuple[str, ...]) -> str:
    """One query: per table, rows seen among the viewer's own ids, among the forbidden ids, and
    outside the viewer's own ids; parameters are three uuid arrays per table, in order."""
    parts = [
        f"select '{t}', count(*) filter (where id = any(%s::uuid[])), "
        f"count(*) filter (where id = any(%s::uuid[])), "
        f"count(*) filter (where id <> all(%s::uuid[])) from public.{t}"
        for t in tables
    ]
    return " union all ".join(parts)


def student_params(people: People, viewer: Person, tables: tuple[str, ...]) -> list[list[str]]:
    """The parameters of `visibility_query(tables)` for `viewer`."""
    params: list[list[str]] = []
    for table in tables:
        own = [viewer.rows[table]] if table in viewer.rows else []
        params += [own, people.others(viewer, table), own]
    return params


def student_findings(viewer: Person, seen: list[Any]) -> list[str]:
    """What is wrong in `seen` (rows of `visibility_query`) for `viewer`, as phrases."""
    findings: list[str] = []
    for table, own, forbidden, outside in seen:
        if table in STUDENT_TABLES and own < 1:
            findings.append(f"student {viewer.name} cannot read their own row in {table}")
        if forbidden:
            whose = "the creator's draft" if table in DRAFT_TABLES else "another student's row"
            findings.append(f"student {viewer.name} reads {whose} in {table}")
        elif table in STUDENT_TABLES and outside:
            findings.append(f"student {viewer.name} reads {outside} row(s) of others in {table}")
    return findings


def anon_params(people: People, tables: tuple[str, ...]) -> list[list[str]]:
    """The parameters of `visibility_query(tables)` for `anon`: every synthetic row is private."""
    params: list[list[str]] = []
    for table in tables:
        params += [[], [p.rows[table] for p in people.everyone if table in p.rows], []]
    return params


def anon_findings(seen: list[Any]) -> list[str]:
    """What `anon` must not have read in `seen`, as phrases."""
    findings: list[str] = []
    for table, _, forbidden, outside in seen:
        if forbidden:
            findings.append(f"anon reads {forbidden} private row(s) of {table}")
        elif table in STUDENT_TABLES and outside:
            findings.append(f"anon reads {outside} row(s) of {table}")
    return findings


def preflight(conn: Any, tables: tuple[str, ...] = SEEDED_TABLES) -> tuple[list[str], str]:
    """Before any write: the seeded tables that are missing, and why the stack's role cannot
    run the check at all (empty when it can): it must switch to `anon` and `authenticated`,
    bypass RLS to create the rows, and insert into each seeded table. One round trip."""
    qualified = ["auth.users", *(f"public.{t}" for t in tables)]
    with conn.pipeline():
        per_table = conn.execute(
            "select t, to_regclass(t) is null, has_table_privilege(to_regclass(t), 'INSERT') "
            "from unnest(%s::text[]) with ordinality u(t, n) order by n",
            (qualified,),
        )
        role = conn.execute(
            "select current_user, rolsuper or rolbypassrls, array("
            "  select n from unnest(array['anon', 'authenticated']) n where not exists ("
            "    select 1 from pg_roles x where x.rolname = n"
            "    and pg_has_role(current_user, x.oid, 'MEMBER'))) "
            "from pg_roles where rolname = current_user"
        )
    found = per_table.fetchall()
    row = role.fetchone()
    missing = [str(t) for t, absent, _ in found if absent]
    user, bypasses, cannot_switch = row if row else ("?", False, [])
    if cannot_switch:
        roles = ", ".join(cannot_switch)
        return missing, f"role {user} cannot SET ROLE {roles} (grant {roles} to {user})"
    if not bypasses:
        return missing, f"role {user} does not bypass RLS, so it cannot create the test rows"
    denied = [str(t) for t, absent, may_insert in found if not absent and not may_insert]
    if denied:
        return missing, f"role {user} may not insert the test rows into {', '.join(denied)}"
    return missing, ""


def seed(conn: Any, people: People, run_id: str) -> None:
    """Insert `people` in the open transaction, in one round trip (pipeline)."""
    with conn.pipeline():
        for sql, params in seed_statements(people, run_id):
            conn.execute(sql, params)


def act_as(conn: Any, role: str, user_id: str | None) -> None:
    """Switch the open transaction to `role` (anon | authenticated) with `user_id`'s claims.
    Sent without waiting: inside `conn.pipeline()` it shares the round trip of what follows."""
    if role not in ("anon", "authenticated"):
        raise ValueError(f"not an API role: {role}")
    conn.execute(f"set local role {role}")
    conn.execute("select set_config('request.jwt.claims', %s, true)", (claims(user_id),))


def seen_as(
    conn: Any, role: str, user_id: str | None, tables: tuple[str, ...], params: list[list[str]]
) -> list[Any]:
    """`seen` as `role` with `user_id`'s claims, switching and reading in one round trip."""
    with conn.pipeline():
        act_as(conn, role, user_id)
        rows = conn.execute(visibility_query(tables), params) if tables else None
    return list(rows.fetchall()) if rows is not None else []


def readable(conn: Any, tables: tuple[str, ...]) -> tuple[str, ...]:
    """The `tables` the current role may SELECT from at all (any column)."""
    rows = conn.execute(
        "select t from unnest(%s::text[]) with ordinality u(t, n) "
        "where has_any_column_privilege('public.' || quote_ident(t), 'SELECT') order by n",
        (list(tables),),
    )
    return tuple(str(r[0]) for r in rows)


def seen(conn: Any, tables: tuple[str, ...], params: list[list[str]]) -> list[Any]:
    """Rows of `visibility_query(tables)` as the current role."""
    if not tables:
        return []
    return list(conn.execute(visibility_query(tables), params).fetchall())
