"""`postgres`' password on a cloud stack, reset once the app no longer logs in with it (the
first `rotate <cloud stack> database` moves the app to its own login: rotation/cloud_db_login.py).

A Supabase project's `postgres` cannot have two passwords, so its old one is retired by a reset:
`pulumi up --replace` of the stack's generated password (`database-password`), which the project
resource applies (v1-update-database-password, `PATCH /v1/projects/{ref}/database/password`);
the migrations' URL follows in the same gated deploy, and the app's login is not touched.
"""

from __future__ import annotations

from collections.abc import Callable

from gate.exitcodes import Exit
from rotation.state import StackState

PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"


class ResetFailed(Exception):
    """The gate that resets `postgres`' password did not pass."""


def password_urn(state: StackState) -> str:
    """The URN of the stack's generated `postgres` password."""
    return str(state.one(PASSWORD_TYPE, suffix="::database-password")["urn"])


def reset_admin(state: StackState, gate_replacing: Callable[[list[str]], Exit]) -> None:
    """Reset `postgres`' password through a gated deploy; ResetFailed unless it is green."""
    code = gate_replacing([password_urn(state)])
    if code != Exit.GREEN:
        raise ResetFailed(
            f"supabase: the gate resetting `postgres`' password ended {int(code)}; the app is "
            f"unaffected (it has its own login); `mentora-infra rotate {state.stack} database` "
            "tries again"
        )
