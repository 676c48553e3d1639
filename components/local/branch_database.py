"""`LocalBranchDatabase`: a review stack's database in its base stack's Postgres, migrated from
zero: the local counterpart of a Supabase branch (components/cloud/branch_database.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.local.postgres_database import PostgresDatabase
from components.schema import migrated


@dataclass(frozen=True, kw_only=True)
class LocalBranchDatabaseArgs:
    """The base stack's cluster and the database made in it."""

    admin_url: pulumi.Input[str]
    """A superuser's URL of the base stack's cluster (its `review_base` output; secret)."""
    database: str
    app_user: str
    migrations_dir: str


class LocalBranchDatabase(pulumi.ComponentResource):
    """Owns one database and its app login in another stack's cluster, and its migrations.

    `url` is the app login's URL; it resolves only after every migration is applied.
    """

    url: pulumi.Output[str]
    """Postgres URL of the database's non-superuser app login (secret)."""
    applied_migrations: pulumi.Output[list[str]]
    """Versions recorded in supabase_migrations.schema_migrations."""
    server_urn: pulumi.Output[str]
    """URN of the database resource: replacing it rebuilds the database from nothing."""

    def __init__(
        self, name: str, args: LocalBranchDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:LocalBranchDatabase", name, None, opts)
        database = PostgresDatabase(
            f"{name}-branch",
            admin_url=args.admin_url,
            database=args.database,
            app_user=args.app_user,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url, self.applied_migrations = migrated(
            self,
            name,
            admin_url=database.database_admin_url,
            app_url=database.app_url,
            migrations_dir=args.migrations_dir,
        )
        self.server_urn = database.urn
        self.register_outputs(
            {
                "url": self.url,
                "applied_migrations": self.applied_migrations,
                "server_urn": self.server_urn,
            }
        )
