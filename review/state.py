"""Where a review stack lives in a checkout, and its record (`list`, `sweep` and `down` read it).

Everything of local review stack `pr-<N>` is under `.pulumi-local/review/` (git-ignored) except
its generated settings file, which Pulumi reads only beside Pulumi.yaml:

    Pulumi.pr-<N>.yaml                      generated from Pulumi.local.yaml (git-ignored)
    .pulumi-local/review/pr-<N>.json        the record: PR, ports, TTL, phase, last gate
    .pulumi-local/review/pr-<N>/servers/    the servers' data dirs
    .pulumi-local/review/pr-<N>/.env        the app's env file (mode 0600)

The record is written before anything is started (phase `creating`) and removed last, so a
`review up` killed at any point leaves something `review sweep` finds.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from review.naming import parse_review_stack

CREATING, UP, FAILED = "creating", "up", "failed"


@dataclass(frozen=True)
class Paths:
    """The files and folders of one review stack in checkout `root`."""

    root: Path
    stack: str

    @property
    def base(self) -> Path:
        return self.root / ".pulumi-local" / "review"

    @property
    def record(self) -> Path:
        return self.base / f"{self.stack}.json"

    @property
    def folder(self) -> Path:
        return self.base / self.stack

    @property
    def servers(self) -> Path:
        return self.folder / "servers"

    @property
    def env_file(self) -> Path:
        return self.folder / ".env"

    @property
    def config_file(self) -> Path:
        return self.root / f"Pulumi.{self.stack}.yaml"


@dataclass
class Record:
    """What `review up` recorded about a review stack (one JSON file, written atomically)."""

    stack: str
    pr: int
    base: str
    created_at: float
    ttl_s: float
    ports: dict[str, int]
    phase: str = CREATING
    updated_at: float = 0.0
    last_gate: str = ""
    last_gate_at: float = 0.0
    urls: dict[str, str] = field(default_factory=dict)
    pid: int = 0
    """The `review up` process that wrote the record last (for `list`; never signalled)."""

    @property
    def expires_at(self) -> float:
        return self.updated_at + self.ttl_s

    def save(self, root: Path) -> None:
        path = Paths(root, self.stack).record
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, root: Path, stack: str) -> Record | None:
        """The record of `stack`, or None when there is none or it is unreadable (a damaged
        record is treated as a half-made stack by `sweep`, never trusted)."""
        try:
            data: dict[str, Any] = json.loads(Paths(root, stack).record.read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None


def now() -> float:
    return time.time()


def known_stacks(root: Path) -> set[str]:
    """Every review stack with anything left in this checkout: a record, a folder or a
    generated settings file (the Pulumi backend is asked separately)."""
    found: set[str] = set()
    base = Paths(root, "pr-0").base
    if base.is_dir():
        for entry in base.iterdir():
            name = entry.name.removesuffix(".json") if entry.suffix == ".json" else entry.name
            if parse_review_stack(name) is not None:
                found.add(name)
    for path in root.glob("Pulumi.pr-*.yaml"):
        name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if parse_review_stack(name) is not None:
            found.add(name)
    return found
