"""Errors of the local server providers. Each carries the fields a caller needs to say what to
change (`service`, `port`, `path`, `setting`); the text uses the fix hint the stack passed in,
so only stacks/ knows config keys.

Exception tree::

    LocalServerError          base; the message names the service, the setting and the fix
    ├── PortInUseError        the configured port is taken when the server is created
    ├── ServerStartError      the server did not become ready before its deadline
    ├── UnsafePathError       a data dir that could hold anything else would be used or deleted
    └── DataLossError         a change would replace a server holding data (refused unless allowed)
        └── RestartLossError  a restart would drop what a server holds only in its memory
"""

from __future__ import annotations

from collections.abc import Mapping

HOST = "127.0.0.1"
# Set to 1 (by `mentora-infra up --allow-data-loss`) to let a change replace a server and lose
# its data; never set by a rollback.
ALLOW_DATA_LOSS_ENV = "MENTORA_ALLOW_DATA_LOSS"


def where_to_set(hints: Mapping[str, str] | None, setting: str, fallback: str) -> str:
    """How the user changes `setting` (from the stack's hints), else a generic description.

    >>> where_to_set({"port": "mentora:redisPort in Pulumi.local.yaml"}, "port", "the port")
    'mentora:redisPort in Pulumi.local.yaml'
    """
    return (hints or {}).get(setting) or fallback


class LocalServerError(Exception):
    """A local server could not be created, started, checked or removed."""

    def __init__(self, message: str, *, service: str = "", setting: str | None = None) -> None:
        super().__init__(message)
        self.service, self.setting = service, setting


class PortInUseError(LocalServerError):
    """Raised by `create` when the configured port already accepts connections."""

    def __init__(self, service: str, port: int, hints: Mapping[str, str] | None = None) -> None:
        self.port = port
        where = where_to_set(hints, "port", f"the {service} server's port")
        super().__init__(
            f"{service}: port {port} on {HOST} is already in use; stop what holds it or set "
            f"{where} to a free port",
            service=service,
            setting="port",
        )


class ServerStartError(LocalServerError):
    """Raised when a started server does not become ready within its deadline."""


class UnsafePathError(LocalServerError):
    """Raised when a data dir is not a dedicated folder of these providers."""

    def __init__(
        self,
        service: str,
        path: str,
        reason: str,
        hints: Mapping[str, str] | None = None,
        *,
        or_else: str = "",
    ) -> None:
        self.path, self.reason = path, reason
        where = where_to_set(hints, "data_dir", "the server's data folder")
        super().__init__(
            f"{service}: data dir {path} {reason}; set {where} to a dedicated folder{or_else}",
            service=service,
            setting="data_dir",
        )


class DataLossError(LocalServerError):
    """Raised by `diff` when a change would replace a server that holds data: refused before
    anything is touched, naming what would be lost and the safe ways."""

    def __init__(
        self,
        service: str,
        changes: Mapping[str, tuple[object, object]],
        holds: str,
        hints: Mapping[str, str] | None = None,
    ) -> None:
        self.changes, self.holds = dict(changes), holds
        what = ", ".join(f"{key} {old!r} -> {new!r}" for key, (old, new) in changes.items())
        where = " or ".join(where_to_set(hints, key, key) for key in changes)
        super().__init__(
            f"{service}: changing {what} would replace the server and lose {holds}; nothing was "
            f"changed. Set {where} back (a port may change: the server moves with its data), "
            f"or, to accept the loss, run: mentora-infra up <stack> --allow-data-loss "
            f"({ALLOW_DATA_LOSS_ENV}=1 for a plain `pulumi up`)",
            service=service,
            setting=next(iter(changes)),
        )


class RestartLossError(DataLossError):
    """Raised by `diff` (and `update`) when a change would restart a server that holds data only
    in its process's memory (a store of a program before it kept files): refused before
    anything is touched, naming what would be lost and how to keep it."""

    def __init__(
        self,
        service: str,
        changes: Mapping[str, tuple[object, object]],
        holds: str,
        keep: str,
    ) -> None:
        self.changes, self.holds = dict(changes), holds
        what = ", ".join(f"{key} {old!r} -> {new!r}" for key, (old, new) in changes.items())
        LocalServerError.__init__(
            self,
            f"{service}: {what} needs a restart of the server, which would lose {holds}; nothing "
            f"was changed. Keep them first: {keep}; then run: mentora-infra up <stack> "
            f"--allow-data-loss ({ALLOW_DATA_LOSS_ENV}=1 for a plain `pulumi up`)",
            service=service,
            setting=next(iter(changes), ""),
        )
