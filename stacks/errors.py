"""Errors raised while reading a stack's configuration.

Exception tree::

    pulumi.RunError            (Pulumi prints the message without a traceback)
    └── ConfigError            a config key is missing, malformed or out of range;
                               raised before any resource is registered
"""

from __future__ import annotations

import pulumi


class ConfigError(pulumi.RunError):
    """A stack config value is invalid. The message names the key, the value and the fix."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"invalid configuration for stack '{stack}' (nothing was changed):\n{lines}"
        )
