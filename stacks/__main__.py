"""Pulumi entry point: validate config, build the components, export the outputs contract."""

from __future__ import annotations

import sys
from pathlib import Path

# The program runs as a script from stacks/; make the project root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stacks.config import load_stack_config  # noqa: E402
from stacks.contract import Target  # noqa: E402

config = load_stack_config()
if config.target is Target.LOCAL:
    from stacks.local import build_local

    build_local(config)
else:
    # Imported only here: the local stack never loads a cloud provider SDK.
    from components.cloud.providers import PLUGIN_SERVERS, PLUGIN_VERSIONS
    from review.naming import is_review_stack
    from stacks.cloud import build_cloud
    from stacks.plugins import require_plugins
    from stacks.review_cloud import build_review_cloud

    require_plugins(PLUGIN_VERSIONS, config.stack, PLUGIN_SERVERS)
    # A cloud review stack (pr-<N>) builds on dev instead of owning every service.
    (build_review_cloud if is_review_stack(config.stack) else build_cloud)(config)
