"""Pulumi entry point: validate config, build the components, export the outputs contract."""

from __future__ import annotations

import sys
from pathlib import Path

# The program runs as a script from stacks/; make the project root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stacks.config import load_stack_config  # noqa: E402
from stacks.local import build_local  # noqa: E402

config = load_stack_config()
if config.target == "local":
    build_local(config)
else:
    import pulumi  # noqa: E402

    raise pulumi.RunError(
        f"stack '{config.stack}': mentora:target=cloud is not wired in this program yet; "
        "use the local stack (pulumi up -s local)"
    )
