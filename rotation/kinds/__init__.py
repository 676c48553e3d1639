"""One module per credential kind of the local stack. Each supplies `create` (a second
credential beside the current one), `revoke_others` (every credential of its kind but the one
the state names: the end of a rotation and the undo of an interrupted one, idempotent) and
`refused` (connect with an old credential and return the server's refusal)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from rotation.state import StackState


@dataclass
class Created:
    """A new credential: the state's old values -> new ones, and the old credential (kept in
    memory only, to show it refused after the revoke)."""

    kind: str
    pairs: dict[str, str]
    old: dict[str, str]
    outputs: dict[tuple[str, str], Any] = field(default_factory=dict)
    """(resource, output) -> value to set: plain (the database's login role) or
    `rotation.state.secret(...)` (the cache's first app password)."""


class NotRefused(Exception):
    """The server still accepted an old credential after its revoke."""


class Kind(Protocol):
    """What a credential kind supplies."""

    name: str

    def create(self, state: StackState) -> Created: ...

    def revoke_others(self, state: StackState) -> list[str]:
        """Revoke every credential of this kind but the state's; what was revoked (no secret)."""
        ...

    def refused(self, state: StackState, old: dict[str, str]) -> str:
        """The server's answer to the old credential; NotRefused if it was accepted."""
        ...


def kinds() -> dict[str, Kind]:
    from rotation.kinds.cache import Cache
    from rotation.kinds.database import Database
    from rotation.kinds.errors import Errors
    from rotation.kinds.storage import Storage

    found: list[Kind] = [Database(), Cache(), Storage(), Errors()]
    return {kind.name: kind for kind in found}
