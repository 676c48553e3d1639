"""The stack outputs contract, identical for every stack (see README "Stack outputs")."""

from __future__ import annotations

from typing import Any

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
) -> dict[str, pulumi.Output[Any]]:
    """Export the contract (secret outputs wrapped as secrets whatever their source); return it."""
    contract: dict[str, pulumi.Output[Any]] = {
        "database_url": pulumi.Output.secret(database_url),
        "redis_url": pulumi.Output.secret(redis_url),
        "bucket_name": pulumi.Output.from_input(bucket_name),
        "storage_endpoint": pulumi.Output.from_input(storage_endpoint),
        "storage_region": pulumi.Output.from_input(storage_region),
        "env": pulumi.Output.secret(env),
    }
    if app_url is not None:
        contract["app_url"] = pulumi.Output.from_input(app_url)
    for name, value in contract.items():
        pulumi.export(name, value)
    return contract
