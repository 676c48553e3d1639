"""The app's environment, wired once for both targets: every stack feeds `AppSecrets` from its
database, cache and bucket the same way; only what differs (endpoints, issued keys, services)
is passed by `stacks/local.py` or `stacks/cloud.py`."""

from __future__ import annotations

from typing import Any, Protocol

import pulumi

from components.app_secrets import AppSecrets, AppSecretsArgs
from stacks.config import StackConfig


class Bucket(Protocol):
    """What every storage component exposes (`LocalStorage`, `S3Storage`)."""

    bucket_name: pulumi.Output[str]
    region: pulumi.Output[str]
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]


def app_secrets(
    config: StackConfig,
    *,
    database_url: pulumi.Input[str],
    redis_url: pulumi.Input[str],
    storage: Bucket,
    **target_specific: Any,
) -> AppSecrets:
    """The stack's `AppSecrets`; `target_specific` are the other `AppSecretsArgs` fields."""
    return AppSecrets(
        "app-secrets",
        AppSecretsArgs(
            database_url=database_url,
            redis_url=redis_url,
            bucket_name=storage.bucket_name,
            storage_region=storage.region,
            storage_access_key_id=storage.access_key_id,
            storage_secret_access_key=storage.secret_access_key,
            log_level=config.log_level,
            node_env=config.node_env,
            **target_specific,
        ),
    )
