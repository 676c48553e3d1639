"""Options that let a component adopt what an older program declared under another type.

The backend-specific components (`LocalDatabase`, `SupabaseDatabase`, ...) replaced one
`Database` (etc.) that branched on the backend. Existing stacks hold the old type tokens: an
alias to the old token makes the engine match the component and, through it, every child, so
upgrading a stack replaces nothing.
"""

from __future__ import annotations

import pulumi


def formerly(old_type: str, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """`opts` plus an alias to the component's former type token (same name, same parent).

    >>> formerly("mentora:infra:Database", None).aliases[0].type_
    'mentora:infra:Database'
    """
    alias = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=old_type)])
    return pulumi.ResourceOptions.merge(opts, alias)
