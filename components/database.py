"""The Postgres database (pgvector) and its schema migrations."""

from __future__ import annotations

from dataclasses import dataclass, field

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
class SupabaseArgs:
    """The Supabase project of a cloud stack (see components/cloud/supabase_project.py)."""

    project_name: str
    organization: str
    region: str
    instance_size: str
    access_token: pulumi.Input[str]
    allowed_cidrs: list[str] = field(default_factory=list)
    pitr_days: int = 0
    hardened: bool = False
    random_provider: pulumi.ProviderResource | None = None


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    """Inputs of `Database`: the schema to apply and the server to apply it to (one of the two)."""

    migrations_dir: str
    local: LocalPostgresArgs | None = None
    supabase: SupabaseArgs | None = None


class Database(pulumi.ComponentResource):
    """Owns the Postgres server (local) or Supabase project (cloud) and its migrations.

    `url` is the application role's connection URL; it resolves only after every migration has
    been applied, so anything that uses it sees the full schema.
    """

    url: pulumi.Output[str]
    """Postgres URL of the non-superuser application role (secret)."""
    applied_migrations: pulumi.Output[list[str]]
    """Versions recorded in supabase_migrations.schema_migrations."""
    api_url: pulumi.Output[str] | None = None
    """Supabase API URL (NEXT_PUBLIC_SUPABASE_URL); None locally."""
    anon_key: pulumi.Output[str] | None = None
    """Supabase anon key (secret in the state; public by design in the browser, where RLS guards
    the data, so its NEXT_PUBLIC_ variable is not `sensitive`); None locally."""
    service_role_key: pulumi.Output[str] | None = None
    """Supabase service-role key, bypasses RLS (secret); None locally."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:Database", name, None, opts)
        if (args.local is None) == (args.supabase is None):
            raise pulumi.RunError("database: give exactly one of local= or supabase=")
        if args.supabase is not None:
            admin_url, app_url = self._supabase(name, args.supabase)
        else:
            assert args.local is not None
            server = PostgresServer(
                f"{name}-server",
                port=args.local.port,
                data_dir=args.local.data_dir,
                database=args.local.database,
                app_user=args.local.app_user,
                opts=pulumi.ResourceOptions(parent=self),
            )
            admin_url, app_url = server.admin_url, server.app_url
        migrations = MigrationsResource(
            f"{name}-migrations",
            admin_url=admin_url,
            migrations_dir=args.migrations_dir,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.applied_migrations = migrations.applied
        self.url = pulumi.Output.secret(
            pulumi.Output.all(app_url, migrations.applied).apply(lambda pair: pair[0])
        )
        self.register_outputs(
            {
                "url": self.url,
                "applied_migrations": self.applied_migrations,
                "api_url": self.api_url,
                "anon_key": self.anon_key,
                "service_role_key": self.service_role_key,
            }
        )

    def _supabase(
        self, name: str, args: SupabaseArgs
    ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """Declare the project; (admin URL for migrations, pooled URL for the app)."""
        import pulumi_random as random

        from components.cloud.providers import stateful
        from components.cloud.supabase_project import SupabaseProject

        # Letters and digits only: the password goes into connection URLs unescaped.
        password = random.RandomPassword(
            f"{name}-password",
            length=40,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, provider=args.random_provider),
        )
        project = SupabaseProject(
            f"{name}-project",
            name=args.project_name,
            organization_slug=args.organization,
            region=args.region,
            access_token=args.access_token,
            db_password=password.result,
            instance_size=args.instance_size,
            ssl_enforced=True,
            allowed_cidrs=args.allowed_cidrs,
            pitr_days=args.pitr_days,
            opts=stateful(args.hardened, parent=self),
        )
        self.api_url = project.url
        self.anon_key = pulumi.Output.secret(project.anon_key)
        self.service_role_key = pulumi.Output.secret(project.service_role_key)
        return project.direct_url, project.database_url
