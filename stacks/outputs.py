"""The stack outputs contract, identical for every stack (see README "Stack outputs")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

if TYPE_CHECKING:
    from components.app_secrets import AppSecrets
    from components.cache import Cache
    from components.database import Database
    from components.deploy_target import DeployTarget
    from components.storage import Storage

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
    database: Database,
    cache: Cache,
    storage: Storage,
    secrets: AppSecrets,
    target: DeployTarget,
) -> dict[str, pulumi.Output[Any]]:
    """Export the contract from the stack's components (secret outputs wrapped as secrets
    whatever their source); return it."""
    contract: dict[str, pulumi.Output[Any]] = {
        "database_url": pulumi.Output.secret(database.url),
        "redis_url": pulumi.Output.secret(cache.url),
        "bucket_name": pulumi.Output.from_input(storage.bucket_name),
        "storage_endpoint": pulumi.Output.from_input(storage.endpoint),
        "storage_region": pulumi.Output.from_input(storage.region),
        "env": pulumi.Output.secret(secrets.env),
    }
    if target.app_url is not None:
        contract["app_url"] = pulumi.Output.from_input(target.app_url)
    for name, value in contract.items():
        pulumi.export(name, value)
    return contract
