"""The drill's and restore's errors.

```
RecoveryError              any failure of a drill or restore (exit 1)
├── DrillFailed            a proof failed, or the backup is damaged or incomplete (names the file)
└── RecoveryUsageError     bad input, found before anything is touched (exit 2)
```
"""

from __future__ import annotations


class RecoveryError(Exception):
    """A drill or restore failed; the message names what and the fix."""


class DrillFailed(RecoveryError):
    """The backup did not restore, or a restored database failed a proof; names the object or
    proof."""


class RecoveryUsageError(RecoveryError):
    """Bad input (stack, TIME, a missing flag): raised before anything is touched."""
