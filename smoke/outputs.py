"""Loading a stack's outputs: the contract of docs/architecture.md, "Stack outputs contract".

>>> outputs = load_from_file(Path("outputs.json"))  # doctest: +SKIP
>>> outputs = load_from_stack("local", Redactor())  # doctest: +SKIP
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ("database_url", "redis_url", "bucket_name", "storage_endpoint", "storage_region", "env")
NON_EMPTY = ("bucket_name", "storage_region")
SCHEMES = {"database_url": ("postgresql", "postgres"), "redis_url": ("redis", "rediss")}
PULUMI_TIMEOUT_S = 60
STDERR_TAIL = 800
CONTRACT = "docs/architecture.md"


class OutputsError(Exception):
    """Raised when the outputs cannot be read (pulumi CLI error, unreadable file, not JSON) or an
    output the contract requires is missing or has the wrong type. The message names the stack or
    file, the output and the fix, and never contains a secret value."""


@dataclass(frozen=True, kw_only=True)
class StackOutputs:
    """The outputs contract of one stack. Secrets are in clear but kept out of `repr()`: still,
    never print them; show `redact_url(...)` of a URL instead."""

    database_url: str = field(repr=False)
    redis_url: str = field(repr=False)
    bucket_name: str
    storage_endpoint: str
    storage_region: str
    app_url: str | None = None
    env: dict[str, str] = field(default_factory=dict, repr=False)
    stack: str = "file"  # where the outputs came from: a stack name, or the outputs file

    @classmethod
    def from_json(cls, raw: object, source: str, stack: str = "file") -> StackOutputs:
        """Validate `pulumi stack output --json` data; `source` names it in errors
        (`stack 'dev'`, `outputs file o.json`)."""
        if not isinstance(raw, dict):
            raise OutputsError(f"{source}: outputs are {type(raw).__name__}, not a JSON object")
        missing = [name for name in REQUIRED if name not in raw]
        if missing:
            raise OutputsError(
                f"{source} has no output {', '.join(missing)} (the outputs contract is in "
                f"{CONTRACT}); deploy it first: {fix_for(stack)}"
            )
        values: dict[str, Any] = {}
        for name in REQUIRED[:-1]:
            value = "" if name == "storage_endpoint" and raw[name] is None else raw[name]
            if not isinstance(value, str):
                raise OutputsError(f"{source}: output {name} is {type(value).__name__}, not text")
            values[name] = value.strip()
            if not values[name] and name in NON_EMPTY:
                raise OutputsError(f"{source}: output {name} is empty")
        for name, schemes in SCHEMES.items():
            scheme = values[name].split("://", 1)[0].lower() if "://" in values[name] else ""
            if scheme not in schemes:
                raise OutputsError(f"{source}: output {name} is not a {schemes[0]}:// URL")
        env = raw["env"]
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise OutputsError(f"{source}: output env is not a map of names to text")
        app_url = raw.get("app_url")
        if app_url is not None and not isinstance(app_url, str):
            raise OutputsError(f"{source}: output app_url is {type(app_url).__name__}, not text")
        return cls(
            **values,
            app_url=(app_url.strip().rstrip("/") or None) if app_url else None,
            env={str(k): v for k, v in env.items()},
            stack=stack,
        )


def fix_for(stack: str) -> str:
    """The command that deploys (or heals) `stack`."""
    if stack in ("local", "file"):
        return "make up"
    return f"pulumi up --stack {stack}"


LOCAL_DATABASE_URN = (
    "urn:pulumi:local::mentora::mentora:infra:Database$pulumi-python:dynamic:Resource"
    "::database-server"
)


def schema_fix_for(stack: str) -> str:
    """How to repair a schema that lost an object the migration ledger says was applied."""
    if stack in ("local", "file"):
        return (
            "the migration ledger still lists every file, so re-running them does nothing; "
            f"rebuild the local database (its data is lost): pulumi up -s local --replace "
            f"'{LOCAL_DATABASE_URN}'"
        )
    return (
        f"restore the database of {stack} from a backup (point-in-time recovery), or add a "
        "new migration that recreates what is missing; never edit an applied one"
    )


def load_from_file(path: Path) -> StackOutputs:
    """Outputs saved with `pulumi stack output --json --show-secrets > path`."""
    try:
        raw = json.loads(Path(path).read_text())
    except OSError as exc:
        raise OutputsError(f"cannot read outputs file {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise OutputsError(f"outputs file {path} is not JSON") from None
    return StackOutputs.from_json(raw, f"outputs file {path}")


def load_from_stack(
    stack: str, redact: Callable[[str], str] = str, timeout_s: float = PULUMI_TIMEOUT_S
) -> StackOutputs:
    """Ask the Pulumi CLI for `stack`'s outputs, secrets included, from the project root.

    The environment is inherited: the caller sets PULUMI_BACKEND_URL, the passphrase and PATH
    (`source scripts/env.sh`). CLI errors pass through `redact` before they are shown."""
    command = ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack]
    try:
        proc = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        raise OutputsError(
            "pulumi CLI not found on PATH; run scripts/bootstrap.sh, then `source scripts/env.sh`"
        ) from None
    except subprocess.TimeoutExpired:
        raise OutputsError(
            f"`pulumi stack output --stack {stack}` did not answer within {timeout_s:g}s "
            "(is PULUMI_BACKEND_URL reachable? `source scripts/env.sh` for local)"
        ) from None
    if proc.returncode != 0:
        # Mask before cutting: a cut through a secret would leave part of it unmasked.
        detail = redact(proc.stderr.strip() or proc.stdout.strip())[-STDERR_TAIL:]
        raise OutputsError(
            f"`pulumi stack output --stack {stack}` failed (exit {proc.returncode}): {detail} "
            "(is the backend set? `source scripts/env.sh` for local)"
        )
    try:
        raw = json.loads(proc.stdout)
    except ValueError:  # stdout holds secrets: never echo it
        raise OutputsError(f"`pulumi stack output --stack {stack}` did not print JSON") from None
    return StackOutputs.from_json(raw, f"stack '{stack}'", stack)
