"""`MigrationsResource`: the files of `supabase/migrations/`, applied by a dynamic provider.

The engine is `migration_runner` (pure Python); this module only maps Pulumi's lifecycle onto it:

- create / update: apply the pending files (each in its own transaction) and report the ledger;
- diff: a changed file checksum, a new admin URL, or a refreshed ledger missing a file's
  version means "update" (never "replace": re-running applies only what is pending);
- read (refresh): the versions recorded in the database's ledger;
- delete: nothing. The schema is data: it disappears with its database (the server resource
  owns that), and reversing migrations on destroy would wipe a production schema.

The provider object is pickled (dill) into the state, so it holds no clients and imports
database drivers only inside the runner's functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.migrations import runner as migration_runner

RESOURCE_ID = "supabase-migrations"
READ_TIMEOUT_S = 2  # seconds; libpq counts whole seconds
# Keys whose change asks for an update; `applied` is compared separately (see `diff`).
_DIFF_KEYS = ("checksums", "migrations_dir", "admin_url")


class MigrationsProvider(ResourceProvider):
    """Owns nothing but the mapping of create/read/update/diff/delete onto `migration_runner`."""

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        url, folder = str(props["admin_url"]), Path(props["migrations_dir"])
        migration_runner.apply(url, folder)
        return {
            "admin_url": url,
            "migrations_dir": str(props["migrations_dir"]),
            "checksums": dict(props.get("checksums") or migration_runner.checksums(folder)),
            "applied": migration_runner.applied_versions(url),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=RESOURCE_ID, outs=self._apply(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _DIFF_KEYS if olds.get(key) != news.get(key)]
        # After a refresh `applied` is what the database holds: a wiped or restored database
        # lacks versions the files have, and only an update puts them back.
        wanted = news.get("checksums")
        if isinstance(wanted, dict) and set(wanted) - set(olds.get("applied") or []):
            changed.append("applied")
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            # As short as the servers' readiness probes: a hung database must not hold up
            # the refresh (and so the heal) for the full connect timeout.
            applied = migration_runner.applied_versions(str(props["admin_url"]), READ_TIMEOUT_S)
        except migration_runner.MigrationConnectError:
            # The server may be down during a refresh (its own resource restarts it on `up`):
            # keep what the state says rather than claiming the schema is gone.
            applied = list(props.get("applied") or [])
        return ReadResult(id_=id_, outs={**props, "applied": applied})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # Deliberately a no-op: see the module docstring.
        return None


class MigrationsResource(Resource):
    """The schema of one database: every file of `migrations_dir`, applied in version order.

    `checksums` (version -> sha256) is computed here, in the program, so `pulumi preview`
    already shows an update when a migration file is added or edited.

    >>> MigrationsResource("db-migrations", admin_url, "supabase/migrations")  # doctest: +SKIP
    """

    applied: pulumi.Output[list[str]]
    """Versions recorded in supabase_migrations.schema_migrations, in order."""
    checksums: pulumi.Output[dict[str, str]]
    """version -> sha256 of each migration file this resource applied."""

    def __init__(
        self,
        name: str,
        admin_url: pulumi.Input[str],
        migrations_dir: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        folder = Path(migrations_dir).resolve()
        props = {
            "admin_url": pulumi.Output.secret(admin_url),
            "migrations_dir": str(folder),
            "checksums": migration_runner.checksums(folder),
            "applied": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["admin_url"])
        super().__init__(
            MigrationsProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret)
        )
