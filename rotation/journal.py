"""The rotation journal: which kinds a rotation of a stack was changing and how far it got.

`.pulumi-local/rotation/<stack>.json` (mode 0600) holds no secret: kind names, the step reached,
and the env's fingerprints before and after (digests that reveal no value). A journal left by an
interrupted rotation is reconciled by the next `rotate` or `up` (engine.reconcile): the app is
switched to what the stack's state names, then every other credential of those kinds revoked.

Steps, in order: begun -> created (new credentials exist on the servers) -> saved (the state
names them) -> switched (env file written, the app reports the new fingerprint) -> smoked ->
revoked (old credentials refused). `MENTORA_ROTATE_INTERRUPT_AT=<step>` sends this process a
SIGINT right after that step is recorded: how the tests interrupt a rotation deterministically.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import asdict, dataclass, field
from pathlib import Path

STEPS = ("begun", "created", "saved", "switched", "smoked", "revoked")
INTERRUPT_ENV = "MENTORA_ROTATE_INTERRUPT_AT"


@dataclass
class Entry:
    """One rotation in flight."""

    kinds: list[str]
    step: str = "begun"
    before: str = ""
    """Fingerprint of the app's env before the rotation."""
    after: str = ""
    """Fingerprint of the env naming the new credentials (known from `created`)."""
    notes: list[str] = field(default_factory=list)
    cloud: bool = False
    """A cloud stack's rotation (rotation/cloud_storage.py reconciles it, not `up`)."""
    started: str = ""
    """When it began (UTC, ISO 8601): a key made after it and not in the state is its own."""
    previous: str = ""
    """What names the old credential (a user, a key's name, an access key id; never a secret)."""


class Journal:
    """Owns one stack's journal file."""

    def __init__(self, stack: str, root: Path) -> None:
        self.path = root / ".pulumi-local" / "rotation" / f"{stack}.json"

    def read(self) -> Entry | None:
        """The entry left by a rotation that did not end (None: none)."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise JournalDamaged(f"rotation journal {self.path} is unreadable ({exc})") from None
        return Entry(**data)

    def record(self, entry: Entry, step: str) -> None:
        """Write `entry` at `step` atomically, then honour a test's interruption request."""
        if step not in STEPS:
            raise ValueError(f"unknown rotation step {step!r}")
        from components.local.env_file import write_private

        entry.step = step
        write_private(self.path, json.dumps(asdict(entry), indent=2) + "\n")
        if os.environ.get(INTERRUPT_ENV) == step:
            os.kill(os.getpid(), signal.SIGINT)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


class JournalDamaged(Exception):
    """The journal file exists but cannot be parsed; the message names it and the fix."""
