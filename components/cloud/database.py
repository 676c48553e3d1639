"""`SupabaseDatabase`: the Supabase project (Postgres + pgvector, Data API) and its schema."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_random as random

from components.cloud.app_credential import AppCredential
from components.cloud.providers import stateful
from components.cloud.supabase_db import login_url
from components.cloud.supabase_project import SupabaseProject
from components.former import formerly
from components.schema import migrated


@dataclass(frozen=True, kw_only=True)
class SupabaseDatabaseArgs:
    """The Supabase project of a cloud stack (see components/cloud/supabase_project.py)."""

    project_name: str
    organization: str
    region: str
    instance_size: str
    access_token: pulumi.Input[str]
    migrations_dir: str
    allowed_cidrs: list[str] = field(default_factory=list)
    pitr_days: int = 0
    hardened: bool = False
    random_provider: pulumi.ProviderResource | None = None


class SupabaseDatabase(pulumi.ComponentResource):
    """Owns the Supabase project, its generated database password, the migrations, and the two
    credentials the app holds, each an `AppCredential` that `rotate` moves: its Postgres login
    and its server key.

    `url` (the pooled URL the app uses) resolves only after every migration is applied.
    """

    url: pulumi.Output[str]
    """Pooled Postgres URL, `sslmode=require` (secret)."""
    applied_migrations: pulumi.Output[list[str]]
    """Versions recorded in supabase_migrations.schema_migrations."""
    api_url: pulumi.Output[str]
    """Supabase API URL (NEXT_PUBLIC_SUPABASE_URL)."""
    anon_key: pulumi.Output[str]
    """Supabase anon key (secret in the state; public by design in the browser, where RLS guards
    the data, so its NEXT_PUBLIC_ variable is not `sensitive`)."""
    service_role_key: pulumi.Output[str]
    """Supabase service-role key, bypasses RLS (secret)."""
    admin_url: pulumi.Output[str]
    """`postgres` through the pooler's session mode (secret): what migrations and `drill` use."""

    def __init__(
        self, name: str, args: SupabaseDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "mentora:infra:SupabaseDatabase", name, None, formerly("mentora:infra:Database", opts)
        )
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
        # The app's login: `postgres` until `rotate` moves it to its own login role
        # (rotation/cloud_db_login.py); the URL is the pooler's, logging in as it.
        login = AppCredential(
            f"{name}-app-login",
            scope=project.ref,
            name="postgres",
            secret=password.result,
            opts=pulumi.ResourceOptions(parent=self),
        )
        app_url = pulumi.Output.all(project.database_url, login.name, project.ref, login.secret)
        self.url, self.applied_migrations = migrated(
            self,
            name,
            admin_url=project.migrations_url,
            app_url=app_url.apply(lambda parts: login_url(*(str(p) for p in parts))),
            migrations_dir=args.migrations_dir,
        )
        self.api_url = project.url
        self.anon_key = pulumi.Output.secret(project.anon_key)
        # The server key the app holds: the project's own until `rotate` moves it to one of
        # the alternating secret keys (rotation/cloud_service_key.py).
        server_key = AppCredential(
            f"{name}-service-key",
            scope=project.ref,
            name=project.service_role_key_kind,
            secret=project.service_role_key,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.admin_url = pulumi.Output.secret(project.migrations_url)
        self.service_role_key = pulumi.Output.secret(server_key.secret)
        self.register_outputs(
            {
                "url": self.url,
                "applied_migrations": self.applied_migrations,
                "api_url": self.api_url,
                "anon_key": self.anon_key,
                "service_role_key": self.service_role_key,
                "admin_url": self.admin_url,
            }
        )
