"""Policy pack `mentora-guardrails`: plain validation functions plus the pack that wraps them.

Each module exposes functions that take resource fields (type, name, props, ...) and return a list
of violation messages, so they are unit-testable without the Pulumi engine. `policy.pack` wraps
them into `pulumi_policy` policies; `__main__.py` serves the pack to the engine.
"""
