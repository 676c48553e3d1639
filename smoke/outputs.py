"""Loading a stack's outputs (the contract in README "Stack outputs contract")."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ("database_url", "redis_url", "bucket_name", "storage_endpoint", "storage_region", "env")
PULUMI_TIMEOUT_S = 60


class OutputsError(Exception):
    """The stack's outputs could not be read, or one the contract requires is missing."""


@dataclass(frozen=True)
class StackOutputs:
    """The outputs contract of one stack, secrets in clear (handle with `redact`)."""

    stack: str
    database_url: str
    redis_url: str
    bucket_name: str
    storage_endpoint: str
    storage_region: str
    env: dict[str, str] = field(default_factory=dict)
    app_url: str | None = None

    @classmethod
    def from_json(cls, stack: str, raw: dict[str, Any]) -> StackOutputs:
        missing = [name for name in REQUIRED if name not in raw]
        if missing:
            raise OutputsError(
                f"stack '{stack}' has no output(s) {', '.join(missing)}; "
                f"run `pulumi up -s {stack}` (or `make up` for local) first"
            )
        return cls(
            stack=stack,
            database_url=str(raw["database_url"]),
            redis_url=str(raw["redis_url"]),
            bucket_name=str(raw["bucket_name"]),
            storage_endpoint=str(raw["storage_endpoint"] or ""),
            storage_region=str(raw["storage_region"]),
            env={str(k): str(v) for k, v in dict(raw["env"]).items()},
            app_url=str(raw["app_url"]) if raw.get("app_url") else None,
        )


def load_from_file(path: Path, stack: str = "file") -> StackOutputs:
    """Outputs saved with `pulumi stack output --json --show-secrets > file`."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise OutputsError(f"cannot read outputs file {path}: {type(exc).__name__}") from None
    return StackOutputs.from_json(stack, raw)


def load_from_stack(stack: str, redact: Any = str) -> StackOutputs:
    """Ask the Pulumi CLI for the stack's outputs (with secrets) from the project root."""
    command = ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack]
    try:
        proc = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        raise OutputsError(
            "pulumi CLI not found on PATH; run `source scripts/env.sh` (after scripts/bootstrap.sh)"
        ) from None
    except subprocess.TimeoutExpired:
        raise OutputsError(f"`pulumi stack output` for stack '{stack}' timed out") from None
    if proc.returncode != 0:
        raise OutputsError(
            f"`pulumi stack output --stack {stack}` failed: {redact(proc.stderr.strip())[-800:]}"
        )
    return StackOutputs.from_json(stack, json.loads(proc.stdout))
