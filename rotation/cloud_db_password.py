"""`rotate <cloud stack> database --accept-window`: the Postgres password the app logs in with.

Alternating login roles, as on the local stack, are not possible on a Supabase project from here:
- the app logs in as `postgres`, and `postgres` holds no ADMIN OPTION on itself (Supabase's
  schema grants it ADMIN on anon, authenticated and authenticator only), so it cannot make a
  login that *is* it (`GRANT postgres TO ...` is refused on PostgreSQL 16+);
- a separate app role would change what the app is in the database (ownership of what
  migrations create, BYPASSRLS, every grant) and must first be proven on a real project;
- custom login roles through the shared Supavisor pooler are reported refused (28P01) by
  users, with answers that disagree (supabase discussions #50229, #50553, #52595), and the
  direct host is IPv6-only, which Supabase's own guide lists Vercel as unable to reach ("Supabase
  & Your Network: IPv4 and IPv6 compatibility").
So the password can only be reset: `pulumi up --replace` of the stack's generated password,
which the project resource applies (v1-update-database-password, `PATCH
/v1/projects/{ref}/database/password`) and the app's env follows in the same gated deploy. From
the reset until the new deployment is promoted the production app holds a dead password: the
window the operator accepts with `--accept-window`. Afterwards the old URL is shown refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gate.exitcodes import Exit
from rotation.cloud_driver import Run
from rotation.state import StateError, unwrap

PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"
WINDOW = (
    "the Postgres password can only be reset (the app logs in as `postgres`, which cannot make "
    "a second login of itself): the production app holds the old password from the reset until "
    "the gated deployment with the new one is promoted"
)


class StillAccepted(Exception):
    """The pooler still let the old password in."""


def reset(
    run: Run, gate_replacing: Callable[[list[str]], Exit], refused: Callable[[str], bool]
) -> Exit:
    """Reset the app's Postgres password through a gated deploy; prove the old one refused."""
    state = run.state(run.stack, run.root).load()
    passwords = [
        r["urn"]
        for r in state.resources()
        if r.get("type") == PASSWORD_TYPE and r["urn"].endswith("database-password")
    ]
    projects = [r for r in state.resources() if r["urn"].endswith("::database-project")]
    if len(passwords) != 1 or len(projects) != 1:
        raise StateError(
            f"{run.stack}: the state holds no single database password and project; run "
            f"`mentora-infra up {run.stack}` first"
        )
    outputs: dict[str, Any] = unwrap(projects[0].get("outputs") or {})
    old_url = str(outputs["database_url"])
    run.say(f"rotate database: resetting the Postgres password; {WINDOW} (accepted)")
    code = gate_replacing(passwords)
    if code != Exit.GREEN:
        run.say(
            f"rotate database: the gate ended {int(code)}; if the reset was applied, the "
            f"production app holds a dead password until `mentora-infra up {run.stack}` is green"
        )
        return code
    if not refused(old_url):
        raise StillAccepted("supabase: the old Postgres password still logs in")
    run.say("rotate database: the pooler refuses the old password (password authentication failed)")
    return Exit.GREEN
