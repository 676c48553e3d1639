"""Wires a local stack on another stack's servers (`mentora:baseStack`: a review stack): its
database in the base's Postgres, its bucket in the base's S3 store and its project in the base's
Bugsink, reached through the base's `review_base` output (a StackReference); and that output, on
a stack of its own.

Measured choice (docs/review.md): sharing the base's Postgres, store and Bugsink spares each
review stack ~290 MB of idle servers; its Redis, job server and app stay its own.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.local.branch_database import LocalBranchDatabase, LocalBranchDatabaseArgs
from components.local.branch_error_tracking import (
    LocalBranchErrorTracking,
    LocalBranchErrorTrackingArgs,
)
from components.local.branch_storage import LocalBranchStorage, LocalBranchStorageArgs
from components.local.database import LocalDatabase
from components.local.error_tracker import TrackerSettings
from components.local.error_tracking import LocalErrorTracking
from components.local.postgres_database import with_database
from components.local.s3_tenant import tenant_user
from components.local.storage import LocalStorage
from stacks.config import MIGRATIONS_DIR, StackConfig

OUTPUT = "review_base"  # stacks/contract.py


def base_outputs(config: StackConfig) -> pulumi.Output[dict[str, Any]]:
    """The base stack's `review_base` output (secret)."""
    assert config.local is not None and config.local.base_stack
    name = f"{pulumi.get_organization()}/{pulumi.get_project()}/{config.local.base_stack}"
    reference = pulumi.StackReference(f"{config.stack}-base", stack_name=name)
    return reference.require_output(OUTPUT)


def _field(shared: pulumi.Output[dict[str, Any]], key: str) -> pulumi.Output[str]:
    return shared.apply(lambda values: str(values[key]))


def tenant_database(
    config: StackConfig, shared: pulumi.Output[dict[str, Any]]
) -> LocalBranchDatabase:
    """The stack's database and login in the base's Postgres, migrated from zero."""
    return LocalBranchDatabase(
        "database",
        LocalBranchDatabaseArgs(
            admin_url=_field(shared, "postgres_admin_url"),
            database=config.database_name,
            app_user=config.app_user,
            migrations_dir=str(MIGRATIONS_DIR),
        ),
    )


def tenant_storage(
    config: StackConfig, shared: pulumi.Output[dict[str, Any]]
) -> LocalBranchStorage:
    """The stack's bucket and the app's IAM user for it in the base's S3 store."""
    return LocalBranchStorage(
        "storage",
        LocalBranchStorageArgs(
            endpoint=_field(shared, "storage_endpoint"),
            region=config.region,
            admin_key_id=_field(shared, "storage_admin_key_id"),
            admin_secret=_field(shared, "storage_admin_secret"),
            bucket_name=config.bucket_name,
            user=tenant_user(config.stack),
        ),
    )


def tenant_errors(
    config: StackConfig, shared: pulumi.Output[dict[str, Any]]
) -> LocalBranchErrorTracking:
    """The stack's project in the base's Bugsink, named after the stack."""
    return LocalBranchErrorTracking(
        "errors",
        LocalBranchErrorTrackingArgs(
            url=_field(shared, "errors_url"),
            token=_field(shared, "errors_token"),
            admin_password=_field(shared, "errors_admin_password"),
            team=TrackerSettings.team,
            project=f"{TrackerSettings.project}-{config.stack}",
        ),
    )


def review_base(
    database: LocalDatabase, storage: LocalStorage, errors: LocalErrorTracking
) -> pulumi.Output[dict[str, str]]:
    """The `review_base` output (secret) of a stack with servers of its own: a superuser's URL
    of its Postgres cluster, its store's tenant admin key, its Bugsink's token and admin."""
    return pulumi.Output.all(
        url=database.server.admin_url,
        endpoint=storage.endpoint,
        key=storage.tenant_admin_access_key_id,
        secret=storage.tenant_admin_secret_access_key,
        errors_url=errors.api_url,
        errors_token=errors.api_token,
        errors_admin=errors.admin_password,
    ).apply(
        lambda v: {
            "postgres_admin_url": with_database(v["url"], "postgres"),
            "storage_endpoint": v["endpoint"],
            "storage_admin_key_id": v["key"],
            "storage_admin_secret": v["secret"],
            "errors_url": v["errors_url"],
            "errors_token": v["errors_token"],
            "errors_admin_password": v["errors_admin"],
        }
    )
