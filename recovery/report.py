"""A drill's report: what was restored, how fast, and each proof; as a table, JSON and an exit
code (0 every proof held, 1 otherwise)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from recovery.local_proofs import Proof


@dataclass
class DrillReport:
    """One drill of one stack."""

    stack: str
    target: str
    """The recovery target TIME (ISO, UTC)."""
    backup: str = ""
    """The base backup restored (its id)."""
    recovery_point_s: float | None = None
    """Age of the newest archived WAL when the drill began: what a loss now would lose."""
    restore_s: float | None = None
    """Download, verification, WAL replay to TIME and promotion."""
    verify_s: float | None = None
    """The proofs."""
    total_s: float | None = None
    wal_segments: int = 0
    proofs: list[Proof] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.proofs) and all(p.ok for p in self.proofs)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok}, indent=2)

    def write(self, path: Path | None) -> None:
        if path is not None:
            path.write_text(self.to_json() + "\n")

    def table(self) -> str:
        def secs(value: float | None) -> str:
            return "-" if value is None else f"{value:.2f} s"

        lines = [
            f"drill of stack '{self.stack}' to {self.target}",
            f"  base backup       {self.backup or '-'}",
            f"  recovery point    {secs(self.recovery_point_s)} (age of the newest archived WAL)",
            f"  restore + replay  {secs(self.restore_s)}  ({self.wal_segments} WAL segments)",
            f"  proofs            {secs(self.verify_s)}",
            f"  total             {secs(self.total_s)}",
            "",
            f"  {'proof':<44} {'result':<6} detail",
        ]
        lines += [f"  {p.name:<44} {'ok' if p.ok else 'FAIL':<6} {p.detail}" for p in self.proofs]
        if self.error:
            lines.append(f"  error: {self.error}")
        lines.append(f"DRILL: {'PASSED' if self.ok else 'FAILED'}")
        return "\n".join(lines)
