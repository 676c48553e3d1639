"""Every rotated credential alternates between two names, `<base>_a` and `<base>_b`: Postgres
login roles, Redis and Upstash ACL users, Supabase secret keys. The one a rotation makes is
always the one the app does not use, so a leftover of an interrupted rotation is known by name.
"""

from __future__ import annotations


def pair(base: str) -> tuple[str, str]:
    """The two names of a pair.

    >>> pair("mentora")
    ('mentora_a', 'mentora_b')
    """
    return f"{base}_a", f"{base}_b"


def other(current: str, base: str) -> str:
    """The name a rotation away from `current` (the first when `current` is neither, e.g. the
    provider's own `default` or `postgres`).

    >>> other("mentora_a", "mentora"), other("mentora_b", "mentora"), other("default", "mentora")
    ('mentora_b', 'mentora_a', 'mentora_a')
    """
    first, second = pair(base)
    return second if current == first else first
