"""Exports a stack's outputs exactly as `stacks/contract.py` declares them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pulumi

from stacks.contract import BY_NAME, Target, exported_by


class _HasUrl(Protocol):
    url: pulumi.Output[str]


class _Storage(Protocol):
    bucket_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    region: pulumi.Output[str]


class _AppEnv(Protocol):
    env: pulumi.Output[dict[str, str]]
    fingerprint: pulumi.Output[str]


class _Deploy(Protocol):
    app_url: pulumi.Output[str]


def export_contract(
    target: Target,
    *,
    database: _HasUrl,
    cache: _HasUrl,
    storage: _Storage,
    secrets: _AppEnv,
    deploy: _Deploy,
    extra: Mapping[str, pulumi.Input[Any]] | None = None,
) -> dict[str, pulumi.Output[Any]]:
    """Export the contract from the stack's components (secret outputs wrapped as secrets
    whatever their source) plus `extra` outputs of this target; return them all."""
    contract: dict[str, pulumi.Input[Any]] = {
        "target": target.value,
        "database_url": database.url,
        "redis_url": cache.url,
        "bucket_name": storage.bucket_name,
        "storage_endpoint": storage.endpoint,
        "storage_region": storage.region,
        "env": secrets.env,
        "config_fingerprint": secrets.fingerprint,
        "app_url": deploy.app_url,
        **(extra or {}),
    }
    unknown = sorted(n for n in contract if n not in BY_NAME or target not in BY_NAME[n].targets)
    missing = sorted(set(exported_by(target)) - set(contract))
    if unknown or missing:  # a programming error: the contract module and a stack disagree
        raise pulumi.RunError(f"outputs contract: unknown {unknown}, missing {missing}")
    exported: dict[str, pulumi.Output[Any]] = {}
    for name, value in contract.items():
        output = pulumi.Output.from_input(value)
        exported[name] = pulumi.Output.secret(output) if BY_NAME[name].secret else output
        pulumi.export(name, exported[name])
    return exported


def export_more(target: Target, outputs: Mapping[str, pulumi.Input[Any]]) -> None:
    """Export outputs of the contract made from the exported ones (the local watch, which
    reads the others): named in the contract for `target`, never secret."""
    for name, value in outputs.items():
        spec = BY_NAME.get(name)
        if spec is None or target not in spec.targets or spec.secret:
            raise pulumi.RunError(f"outputs contract: {name} is not a plain output of {target}")
        pulumi.export(name, value)
