"""`LocalDatabase`: the embedded Postgres server (pgvector) and its schema."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from components.former import formerly
from components.local.postgres_server import PostgresServer, PostgresSettings
from components.schema import migrated


@dataclass(frozen=True, kw_only=True)
class LocalDatabaseArgs:
    """Where and how the embedded Postgres server runs, and the schema applied to it."""

    port: int
    data_dir: str
    database: str
    app_user: str
    migrations_dir: str
    archive_timeout: int = 0
    """Seconds bounding how old the newest archived WAL may be; 0: no WAL archiving."""
    hints: Mapping[str, str] = field(default_factory=dict)
    """How the user changes a setting (`port`, `data_dir`), shown in the server's errors."""


class LocalDatabase(pulumi.ComponentResource):
    """Owns the local Postgres server and the migrations applied to it.

    `url` is the application role's URL; it resolves only after every migration is applied.
    """

    url: pulumi.Output[str]
    """Postgres URL of the non-superuser application role (secret)."""
    applied_migrations: pulumi.Output[list[str]]
    """Versions recorded in supabase_migrations.schema_migrations."""
    server_urn: pulumi.Output[str]
    """URN of the server resource: replacing it rebuilds the database from nothing."""

    def __init__(
        self, name: str, args: LocalDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "mentora:infra:LocalDatabase", name, None, formerly("mentora:infra:Database", opts)
        )
        settings = PostgresSettings(
            port=args.port,
            data_dir=Path(args.data_dir),
            hints=args.hints,
            database=args.database,
            app_user=args.app_user,
            archive_timeout=args.archive_timeout,
        )
        server = PostgresServer(f"{name}-server", settings, pulumi.ResourceOptions(parent=self))
        self.url, self.applied_migrations = migrated(
            self,
            name,
            admin_url=server.admin_url,
            app_url=server.app_url,
            migrations_dir=args.migrations_dir,
        )
        self.server_urn = server.urn
        self.server = server
        """The server itself (its admin password and data dir, for the backup archiver)."""
        self.register_outputs(
            {
                "url": self.url,
                "applied_migrations": self.applied_migrations,
                "server_urn": self.server_urn,
            }
        )
