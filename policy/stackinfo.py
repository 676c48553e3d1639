"""Which stack the pack is checking: `local` (this machine), `dev` or `prod` (cloud).

`pulumi_policy` 1.21 does not put the stack name in `ResourceValidationArgs`. The engine sends it
in the `ConfigureStack` call, which the SDK receives but only keeps the stack tags of; older CLIs
also exported `PULUMI_STACK` to the pack process (recent ones do not). So the name is resolved in
this order:

1. policy config `stack` (`--policy-pack-config`), an explicit override;
2. the `stack` field of the engine's `ConfigureStack` request, captured by `install_stack_hook`;
3. the `PULUMI_STACK` environment variable.

If none is available the stack is unknown, and the stack-dependent policies fail closed (treat it
as prod, cloud) so a broken lookup is loud instead of silently switching the guardrails off.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final

PROD_STACKS: Final = frozenset({"prod"})
LOCAL_STACKS: Final = frozenset({"local"})

_captured: dict[str, str] = {}
_HOOK_MARK: Final = "_mentora_stack_hook"


def _bare(name: str) -> str:
    # Cloud backends may send `org/project/stack`; the policies only care about the last part.
    return name.strip().rsplit("/", 1)[-1]


def resolve_stack(config: Mapping[str, Any] | None = None) -> str:
    """Return the stack name being checked, or `""` when it cannot be determined.

    >>> resolve_stack({"stack": "org/mentora-infra/prod"})
    'prod'
    """
    override = (config or {}).get("stack")
    if isinstance(override, str) and override.strip():
        return _bare(override)
    if _captured.get("stack"):
        return _bare(_captured["stack"])
    return _bare(os.environ.get("PULUMI_STACK", ""))


def is_prod(stack: str) -> bool:
    """Whether `stack` must be treated as production (an unknown stack is, to fail closed)."""
    return stack == "" or stack in PROD_STACKS


def is_cloud(stack: str) -> bool:
    """Whether `stack` runs on cloud providers (everything but `local`; unknown counts as cloud)."""
    return stack not in LOCAL_STACKS


def install_stack_hook() -> bool:
    """Wrap the SDK servicer's `ConfigureStack` so the stack name the engine sends is kept.

    Returns False when the installed `pulumi_policy` has no such method (then only the policy
    config and `PULUMI_STACK` are used). Idempotent.
    """
    from pulumi_policy import policy as sdk

    servicer = getattr(sdk, "_PolicyAnalyzerServicer", None)
    original: Callable[..., Any] | None = getattr(servicer, "ConfigureStack", None)
    if servicer is None or original is None:
        return False
    if getattr(original, _HOOK_MARK, False):
        return True

    def configure_stack(self: Any, request: Any, context: Any) -> Any:
        stack = getattr(request, "stack", "")
        if isinstance(stack, str) and stack:
            _captured["stack"] = stack
        return original(self, request, context)

    setattr(configure_stack, _HOOK_MARK, True)
    servicer.ConfigureStack = configure_stack
    return True


def reset_captured_stack() -> None:
    """Forget the stack captured from the engine (for tests)."""
    _captured.clear()
