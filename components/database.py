"""The Postgres database (pgvector) and its schema migrations."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.local.postgres_server import PostgresServer
from components.providers.migrations import MigrationsResource


@dataclass(frozen=True, kw_only=True)
class LocalPostgresArgs:
    """Where and how the embedded Postgres server runs."""

    port: int
    data_dir: str
    database: str
    app_user: str


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    """Inputs of `Database`: the schema to apply and the server to apply it to."""

    migrations_dir: str
    local: LocalPostgresArgs | None = None


class Database(pulumi.ComponentResource):
    """Owns the Postgres server (local) and the migrations applied to it.

    `url` is the application role's connection URL; it resolves only after every migration has
    been applied, so anything that uses it sees the full schema.
    """

    url: pulumi.Output[str]
    """Postgres URL of the non-superuser application role (secret)."""
    applied_migrations: pulumi.Output[list[str]]
    """Versions recorded in supabase_migrations.schema_migrations."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:Database", name, None, opts)
        if args.local is None:
            raise pulumi.RunError("database: only the local server is wired in this program so far")
        child = pulumi.ResourceOptions(parent=self)
        server = PostgresServer(
            f"{name}-server",
            port=args.local.port,
            data_dir=args.local.data_dir,
            database=args.local.database,
            app_user=args.local.app_user,
            opts=child,
        )
        migrations = MigrationsResource(
            f"{name}-migrations",
            admin_url=server.admin_url,
            migrations_dir=args.migrations_dir,
            opts=child,
        )
        self.applied_migrations = migrations.applied
        self.url = pulumi.Output.secret(
            pulumi.Output.all(server.app_url, migrations.applied).apply(lambda pair: pair[0])
        )
        self.register_outputs({"url": self.url, "applied_migrations": self.applied_migrations})
