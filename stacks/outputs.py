"""The stack outputs contract, identical for every stack (see README "Stack outputs")."""

from __future__ import annotations

import pulumi

CONTRACT_OUTPUTS = (
    "database_url",
    "redis_url",
    "bucket_name",
    "storage_endpoint",
    "storage_region",
    "env",
)
SECRET_OUTPUTS = ("database_url", "redis_url", "env")


def export_contract(
    *,
    database_url: pulumi.Input[str],
    redis_url: pulumi.Input[str],
    bucket_name: pulumi.Input[str],
    storage_endpoint: pulumi.Input[str],
    storage_region: pulumi.Input[str],
    env: pulumi.Input[dict[str, str]],
    app_url: pulumi.Input[str] | None,
) -> None:
    """Export the contract; secret outputs are wrapped as secrets whatever their source."""
    pulumi.export("database_url", pulumi.Output.secret(database_url))
    pulumi.export("redis_url", pulumi.Output.secret(redis_url))
    pulumi.export("bucket_name", bucket_name)
    pulumi.export("storage_endpoint", storage_endpoint)
    pulumi.export("storage_region", storage_region)
    pulumi.export("env", pulumi.Output.secret(env))
    if app_url is not None:
        pulumi.export("app_url", app_url)
