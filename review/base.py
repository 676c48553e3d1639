"""The base stack a local review stack makes its database in (`mentora:baseStack`,
components/local/postgres_database.py): waited for at `review up`, reached by name at
`review down`, so a stack whose state is lost or half-made leaves nothing in the base's
cluster either."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from gate.lock import lock_path
from review import pulumi_cli, settings
from review.errors import ReviewError, ReviewUsage
from review.lock import held
from review.naming import LOCAL_BASE
from review.state import Paths

BASE_OUTPUT = "review_base"  # stacks/contract.py
POLL_S = 1.0
BASE_WAIT_S = 300.0
"""How long `review up` waits for its base stack (a `make up` started with it): a cold
`make up` takes ~45 s on this machine, more with review stacks starting beside it."""


def wait_for_base(
    root: Path,
    wait_s: float,
    say: Callable[[str], None],
    base: str = LOCAL_BASE,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once `base` is deployed with its `review_base` output and no gate of it runs;
    waits up to `wait_s` (a `make up` started at the same time), then ReviewUsage naming the
    fix."""
    deadline = clock() + wait_s
    said = False
    while True:
        running = held(lock_path(base, root))
        if not running and pulumi_cli.output(root, base, BASE_OUTPUT) is not None:
            return
        if clock() >= deadline:
            why = "its gate is still running" if running else "it is not deployed"
            raise ReviewUsage(
                f"review: a review stack makes its database in the base stack {base}'s Postgres, "
                f"and {why} after {wait_s:g}s; bring it up first: make up (or "
                f"mentora-infra up {base}), then run review up again"
            )
        if not said:
            say(f"review: waiting up to {wait_s:g}s for the base stack {base} (make up)")
            said = True
        sleep(POLL_S)


def _names(paths: Paths) -> tuple[str, str, str] | None:
    """(base stack, database, app login) of a review stack: its generated settings', else
    derived again from the base's (the settings file of a killed `review up` may be gone)."""
    with contextlib.suppress(OSError, yaml.YAMLError, AttributeError, KeyError):
        config = (yaml.safe_load(paths.config_file.read_text()) or {}).get("config") or {}
        base = str(config.get("mentora:baseStack") or "")
        if base:
            return base, str(config["mentora:databaseName"]), str(config["mentora:appUser"])
    with contextlib.suppress(ReviewUsage):
        return (LOCAL_BASE, *settings.tenant_names(paths.stack, settings.base_config(paths.root)))
    return None


@dataclass(frozen=True)
class Tenant:
    """A review stack's database and app login in its base stack's Postgres cluster."""

    stack: str
    base: str
    database: str
    app_user: str
    admin_url: str | None
    """A superuser's URL of the base's cluster; None when the base has no `review_base`
    output (destroyed, its cluster with it: nothing of the tenant can be left)."""

    @classmethod
    def of(cls, paths: Paths) -> Tenant | None:
        names = _names(paths)
        if names is None:
            return None
        shared: Any = pulumi_cli.output(paths.root, names[0], BASE_OUTPUT, secret=True)
        url = str(shared["postgres_admin_url"]) if isinstance(shared, dict) else None
        return cls(paths.stack, *names, admin_url=url)

    def drop(self) -> list[str]:
        """Drop the database (its sessions ended) and the login; what was done."""
        import psycopg

        from components.local.postgres_database import drop, present

        if self.admin_url is None:
            return []
        try:
            found = present(self.admin_url, self.database, self.app_user)
            if found:
                drop(self.admin_url, self.database, self.app_user)
        except psycopg.Error as exc:
            raise ReviewError(
                f"{self.stack}: cannot drop {self.database} from the base stack {self.base}'s "
                f"Postgres ({str(exc).strip()}); bring {self.base} up (make up) and run this again"
            ) from None
        return [f"dropped {' and '.join(found)} from {self.base}'s Postgres"] if found else []

    def left(self) -> list[str]:
        """The database and login, if the base's cluster still has them (the system's answer)."""
        import psycopg

        from components.local.postgres_database import present

        if self.admin_url is None:
            return []
        try:
            found = present(self.admin_url, self.database, self.app_user)
        except psycopg.Error as exc:
            return [f"{self.database} in {self.base}'s Postgres (unverified: {exc})"]
        return [f"{what} in {self.base}'s Postgres" for what in found]


def tenants_of(root: Path, base: str) -> list[str]:
    """The review stacks whose database lives in `base`'s Postgres, in PR order."""
    from review.naming import parse_review_stack
    from review.state import known_stacks

    stacks = known_stacks(root) if base == LOCAL_BASE else set()
    return sorted(stacks, key=lambda name: parse_review_stack(name) or 0)


def refuse_with_tenants(root: Path, base: str, action: str) -> None:
    """ReviewUsage naming the review stacks `action` on `base` would take the data of."""
    tenants = tenants_of(root, base)
    if tenants:
        downs = "; ".join(f"mentora-infra review down {t.removeprefix('pr-')}" for t in tenants)
        raise ReviewUsage(
            f"{action} {base}: its Postgres holds the databases of review stacks "
            f"{', '.join(tenants)}, which would go with it; remove them first: {downs}"
        )
