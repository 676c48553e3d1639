"""Serve the `mentora-guardrails` policy pack to the Pulumi engine.

Run by the engine (`pulumi preview --policy-pack policy`), never imported: `PolicyPack(...)` starts
the analyzer gRPC server and blocks until the engine stops it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The engine runs this file with `policy/` itself on sys.path; the modules import each other as
# `policy.*` (like the tests do), so the project root must be importable too.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.pack import PACK_NAME, build_policies  # noqa: E402
from policy.stackinfo import install_stack_hook  # noqa: E402

install_stack_hook()

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Mentora guardrails: private encrypted buckets, protected prod state, "
    "secrets in sensitive vars only, TLS-only Redis, a monitored deployment.",
)
