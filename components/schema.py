"""The schema every database component applies: `supabase/migrations/`, then the app's URL."""

from __future__ import annotations

import pulumi

from components.migrations.resource import MigrationsResource


def migrated(
    parent: pulumi.Resource,
    name: str,
    *,
    admin_url: pulumi.Input[str],
    app_url: pulumi.Input[str],
    migrations_dir: str,
) -> tuple[pulumi.Output[str], pulumi.Output[list[str]]]:
    """Declare the migrations (`<name>-migrations`) of a database; return the app's URL, which
    resolves only once every migration is applied (so no consumer sees a partial schema), and
    the applied versions."""
    migrations = MigrationsResource(
        f"{name}-migrations",
        admin_url=admin_url,
        migrations_dir=migrations_dir,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    url = pulumi.Output.all(app_url, migrations.applied).apply(lambda pair: str(pair[0]))
    return pulumi.Output.secret(url), migrations.applied
