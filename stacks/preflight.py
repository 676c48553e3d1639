"""`python -m stacks.preflight <stack>`: the stack's settings file checked before Pulumi runs.

The gate runs it in the checkout it deploys, so bad config is named with its fix and exit 2
before anything is touched (no refresh, no update). It reads `Pulumi.<stack>.yaml` as Pulumi
would and validates it with `parse_stack_config`, the program's own check. Secrets stay
encrypted: only that a secret is not stored in plain text is checked here; whether it is set
(it may come from the CI or a Pulumi ESC environment) and its shape are checked by the program,
which sees every source and decrypts it. So are keys that a stack with an `environment:` may take
from there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from stacks.cloud_settings import CLOUD_SECRETS
from stacks.config import parse_stack_config
from stacks.errors import ConfigError
from stacks.settings import NAMESPACE

USAGE_EXIT = 2


def _text(value: Any) -> str:
    """A YAML value as the Pulumi CLI hands it to the program."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


def problems(stack: str, root: Path) -> list[str]:
    """Every problem of the stack's settings file, one line each (empty when it is fine)."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        return [f"{path.name}:{where} {problem}; fix the file (YAML with a `config:` mapping)"]
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        return [] if config is None else [f"{path.name}: `config:` is not a mapping"]
    prefix = f"{NAMESPACE}:"
    raw: dict[str, str] = {}
    secrets: dict[str, str | None] = {}
    encrypted: dict[str, bool] = {}
    for name, value in config.items():
        if not str(name).startswith(prefix):
            continue  # another package's setting (aws:region, ...)
        key = str(name).removeprefix(prefix)
        secure = isinstance(value, dict) and set(value) == {"secure"}
        if key in CLOUD_SECRETS:
            secrets[key] = "(encrypted)" if secure else _text(value)
            encrypted[key] = secure
        elif secure:
            raw[key] = "(encrypted)"
        else:
            raw[key] = _text(value)
    try:
        parse_stack_config(stack, raw, secrets, encrypted)
    except ConfigError as exc:
        unchecked = [f"{prefix}{k}: is required" for k in CLOUD_SECRETS]
        unchecked += [f"{prefix}{k}: does not look like" for k, e in encrypted.items() if e]
        if document.get("environment"):  # any key may come from there: values checked only
            return [p for p in exc.problems if "is required" not in p]
        return [p for p in exc.problems if not p.startswith(tuple(unchecked))]
    return []


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m stacks.preflight <stack>", file=sys.stderr)
        return USAGE_EXIT
    stack = argv[0]
    found = problems(stack, Path.cwd())
    if not found:
        return 0
    lines = "\n".join(f"  - {p}" for p in found)
    print(
        f"invalid configuration for stack '{stack}' (nothing was changed):\n{lines}",
        file=sys.stderr,
    )
    return USAGE_EXIT


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
