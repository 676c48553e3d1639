"""Old home of the migrations resource, kept as an alias.

A dynamic provider is pickled into the state by module path; stacks deployed before the move name
`components.providers.migrations.MigrationsProvider`, and `pulumi refresh`/`destroy` load it from
there. Their next `up` stores the new path. Remove this module once no such stack is left.
"""

from components.migrations.resource import MigrationsProvider, MigrationsResource

__all__ = ["MigrationsProvider", "MigrationsResource"]
