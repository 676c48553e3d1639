"""Loading a stack's outputs (the contract itself is `stacks/contract.py`).

>>> outputs = load_from_file(Path("outputs.json"))  # doctest: +SKIP
>>> outputs = load_from_stack("local", Redactor())  # doctest: +SKIP
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from stacks.contract import REQUIRED, OutputsError, StackOutputs

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PULUMI_TIMEOUT_S = 60
STDERR_TAIL = 800
__all__ = ["REQUIRED", "OutputsError", "StackOutputs", "load_from_file", "load_from_stack"]


def schema_fix_for(outputs: StackOutputs) -> str:
    """How to repair a schema that lost an object the migration ledger says was applied."""
    if outputs.is_local:
        urn = outputs.database_server_urn or "<the database server URN: pulumi stack --show-urns>"
        # urn:pulumi:<stack>::<project>::<type>::<name>; an outputs file knows no stack name.
        stack = urn.split("::", 1)[0].rsplit(":", 1)[-1] if urn.startswith("urn:") else "local"
        return (
            "the migration ledger still lists every file, so re-running them does nothing; "
            f"rebuild the local database (its data is lost): pulumi up -s {stack} "
            f"--replace '{urn}'"
        )
    return (
        f"restore the database of {outputs.stack} from a backup (point-in-time recovery), or add a "
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
