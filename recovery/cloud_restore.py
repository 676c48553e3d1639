"""`mentora-infra restore <cloud stack> --to TIME`: Supabase point-in-time recovery of the
stack's own project, through the Management API (components.cloud.supabase_backups).

Order, each step before anything is touched: TIME parsed (ISO 8601 with a zone, or unix
seconds); prod refused without `really_restore_prod`; the project ref read from the stack's
`supabase_url` output; the access token from `SUPABASE_ACCESS_TOKEN` (the Supabase CLI's
variable; the CLI fills it from the stack's `mentora:supabaseAccessToken` secret when unset;
never a command-line argument); the backups listed, and a TIME outside the PITR window
refused naming the window (exit 2). Only then `POST .../restore-pitr`, which starts the restore
(201) and returns: the project restores asynchronously, so the outcome says "started", never
"restored" (the status the project shows meanwhile is not in the published contract).

>>> at = parse_time("2026-12-04T22:00:00Z")
>>> run("prod", at, outputs, url, really_restore_prod=True).code  # doctest: +SKIP
0
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from components.cloud.errors import SupabaseError
from components.cloud.supabase_api import SupabaseClient
from components.cloud.supabase_backups import list_backups, restore_pitr
from recovery.report import EXIT_FAILED, EXIT_GREEN, EXIT_USAGE
from stacks.contract import StackOutputs

TOKEN_ENV = "SUPABASE_ACCESS_TOKEN"
PROTECTED_STACK = "prod"
_SUPABASE_URL = re.compile(r"^https://([a-z]{20})\.supabase\.co/?$")

ClientFactory = Callable[[str], SupabaseClient]


@dataclass(frozen=True)
class RestoreOutcome:
    """How a restore ended: its exit code (0 started/finished, 1 the API failed, 2 bad input,
    nothing touched) and what to tell the operator."""

    code: int
    message: str


def parse_time(text: str) -> datetime:
    """ISO 8601 with a zone (`2026-12-04T22:00:00Z`) or unix seconds; ValueError otherwise.

    >>> parse_time("1764885600").isoformat()
    '2026-12-04T22:00:00+00:00'
    """
    value = text.strip()
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time {text!r} has no zone; add Z or +00:00")
    return parsed


def project_ref(outputs: StackOutputs, supabase_url: str | None) -> str:
    """The project ref of `https://<ref>.supabase.co`; ValueError naming the output."""
    match = _SUPABASE_URL.match(supabase_url or "")
    if not match:
        raise ValueError(
            f"stack {outputs.stack}: output supabase_url {supabase_url!r} is not "
            "https://<20-letter ref>.supabase.co; run `pulumi up` on the stack first"
        )
    return match.group(1)


def guard(stack: str, to: datetime, *, really_restore_prod: bool) -> str | None:
    """Why the restore is refused before anything is read (prod without the flag), or None."""
    if stack == PROTECTED_STACK and not really_restore_prod:
        return (
            f"restore {stack}: this rewinds production and loses every write after "
            f"{to.isoformat()}; run again with --really-restore-prod to do it"
        )
    return None


def _window_text(window: tuple[int, int]) -> str:
    start, end = (datetime.fromtimestamp(t, UTC).isoformat() for t in window)
    return f"{start} .. {end}"


def run(
    stack: str,
    to: datetime,
    outputs: StackOutputs,
    supabase_url: str | None,
    *,
    really_restore_prod: bool = False,
    env: Mapping[str, str] | None = None,
    client: ClientFactory = SupabaseClient,
) -> RestoreOutcome:
    """Restore `stack`'s Supabase project to `to` (see the module doc for the order)."""
    env = os.environ if env is None else env
    if outputs.is_local:
        return RestoreOutcome(EXIT_USAGE, f"{stack} is a local stack: use the local restore")
    refusal = guard(stack, to, really_restore_prod=really_restore_prod)
    if refusal:
        return RestoreOutcome(EXIT_USAGE, refusal)
    try:
        ref = project_ref(outputs, supabase_url)
    except ValueError as exc:
        return RestoreOutcome(EXIT_USAGE, str(exc))
    token = env.get(TOKEN_ENV, "")
    if not token:
        return RestoreOutcome(
            EXIT_USAGE,
            f"restore {stack}: no Supabase access token: set {TOKEN_ENV}, or the stack's "
            "mentora:supabaseAccessToken secret (https://supabase.com/dashboard/account/tokens)",
        )
    target = int(to.timestamp())
    try:
        with client(token) as api:
            window = list_backups(api, ref).pitr_window()
            if window is None:
                return RestoreOutcome(
                    EXIT_USAGE,
                    f"restore {stack}: project {ref} has no point-in-time recovery window "
                    "(PITR off, or no backup yet); set mentora:supabasePitrDays and `pulumi up`",
                )
            if not window[0] <= target <= window[1]:
                return RestoreOutcome(
                    EXIT_USAGE,
                    f"restore {stack}: {to.isoformat()} is outside the PITR window "
                    f"{_window_text(window)}; choose a time inside it",
                )
            restore_pitr(api, ref, target)
    except SupabaseError as exc:
        return RestoreOutcome(EXIT_FAILED, f"restore {stack}: {exc}")
    return RestoreOutcome(
        EXIT_GREEN,
        f"{stack}: restore of project {ref} to {to.isoformat()} started (the API accepted it); "
        f"the project restores asynchronously: once the dashboard shows it healthy, run "
        f"`mentora-infra smoke {stack}`",
    )
