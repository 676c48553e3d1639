"""Errors of the migrations runner.

Exception tree::

    MigrationError              base; messages name the file and never hold the URL's password
    ├── MigrationNameError      a `.sql` file is not <version>_<name>.sql, or a version repeats
    ├── MigrationChecksumError  an applied file was edited after it was applied
    ├── MigrationMissingError   the ledger holds a version whose file is gone
    ├── MigrationConnectError   the database is unreachable, or another run holds the lock
    └── MigrationFailedError    a pending file failed; its transaction was rolled back
"""

from __future__ import annotations


class MigrationError(Exception):
    """Base class of every error of the migration engine."""


class MigrationNameError(MigrationError):
    """Raised by `discover` when a `.sql` file is misnamed or two files share a version."""


class MigrationChecksumError(MigrationError):
    """Raised by `plan`/`apply` when an applied file's sha256 differs from the recorded one."""


class MigrationMissingError(MigrationError):
    """Raised by `plan`/`apply` when the ledger holds a version that has no file any more."""


class MigrationConnectError(MigrationError):
    """Raised when the database cannot be reached or the migration lock is not obtained."""


class MigrationFailedError(MigrationError):
    """Raised by `apply` when a pending file fails: it left no schema change and no ledger row."""
