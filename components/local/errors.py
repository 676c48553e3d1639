"""Errors of the local server providers.

Exception tree::

    LocalServerError        base; the message names the service, the setting and the fix
    ├── PortInUseError      the configured port is taken before the server is created
    ├── ServerStartError    the server did not accept connections before its deadline
    └── UnsafePathError     a data dir outside the state folder would be deleted or used
"""

from __future__ import annotations


class LocalServerError(Exception):
    """A local server could not be created, started, checked or removed."""


class PortInUseError(LocalServerError):
    """Raised by `create` when the configured port already accepts connections."""


class ServerStartError(LocalServerError):
    """Raised when a started server does not accept connections within its deadline."""


class UnsafePathError(LocalServerError):
    """Raised when a data dir is not an absolute path under a `.pulumi-local`-like state dir."""
