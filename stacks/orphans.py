"""`python -m stacks.orphans [stack]` (run by `make destroy` after `pulumi destroy`): stop every
server of the local stack still running outside its state, and remove the data dirs they leave.

`pulumi destroy` deletes what the state holds. A cold `up` interrupted twice leaves servers whose
resources never reached the state, and a deleted data dir makes refresh drop a server that still
runs: without this, `make destroy` would report success while they keep their ports. A server is
ours when `components/local/ownership.py` proves it; nothing else is touched.
"""

from __future__ import annotations

import json
import subprocess
import sys

import yaml  # type: ignore[import-untyped]

from components.local.orphans import stop_orphan
from components.local.processes import OWNED_MARKER, remove_data_dir
from stacks.config import PROJECT_ROOT, parse_stack_config
from stacks.errors import ConfigError
from stacks.local import server_dirs
from stacks.settings import NAMESPACE

EXPORT_TIMEOUT_S = 60


class StackNotEmpty(Exception):
    """The stack's state still holds servers: they are not orphans, and must not be touched."""


def servers_in_state(stack: str) -> int:
    """How many resources `pulumi stack export` lists for `stack` (besides the stack itself
    and its providers)."""
    done = subprocess.run(
        ["pulumi", "stack", "export", "--stack", stack],
        capture_output=True,
        text=True,
        timeout=EXPORT_TIMEOUT_S,
        check=True,
    )
    resources = (json.loads(done.stdout).get("deployment") or {}).get("resources") or []
    kept = ("pulumi:pulumi:Stack", "pulumi:providers:")
    return sum(1 for r in resources if not str(r.get("type", "")).startswith(kept))


def sweep(stack: str) -> list[str]:
    """What was stopped and removed for `stack`, one line each (nothing for a cloud stack).
    Refused while the state still holds resources: those servers are the stack's own."""
    left = servers_in_state(stack)
    if left:
        raise StackNotEmpty(
            f"stack {stack} still has {left} resource(s) in its state; run: make destroy"
        )
    doc = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
    prefix = f"{NAMESPACE}:"
    raw = {
        str(key).removeprefix(prefix): str(value)
        for key, value in (doc.get("config") or {}).items()
        if str(key).startswith(prefix) and not isinstance(value, dict)  # secure values: cloud
    }
    config = parse_stack_config(stack, raw)
    if config.local is None:
        return []
    done = []
    for service, (port, data_dir) in server_dirs(config.local).items():
        pid = stop_orphan(service, port, data_dir)
        if pid is not None:
            done.append(f"{service}: stopped pid {pid}, left running outside the stack's state")
        if (data_dir / OWNED_MARKER).is_file():
            remove_data_dir(service, str(data_dir))
            done.append(f"{service}: removed {data_dir}, left outside the stack's state")
    return done


def main(argv: list[str]) -> int:
    stack = argv[0] if argv else "local"
    try:
        lines = sweep(stack)
    except (OSError, ConfigError, StackNotEmpty, subprocess.SubprocessError) as exc:
        print(f"orphans: {exc}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
