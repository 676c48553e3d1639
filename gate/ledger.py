"""What the gate remembers about a stack, kept on the stack itself as stack tags (any backend:
Pulumi Cloud or a file backend): the last-known-good deployment, a hold, the last gate's result.

Tag values are short JSON objects (Pulumi Cloud limits a tag value to 256 characters).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LKG_TAG = "mentora:lkg"
TAG_VALUE_MAX = 256  # Pulumi Cloud's limit on a stack tag's value
HOLD_TAG = "mentora:hold"
LAST_GATE_TAG = "mentora:last-gate"
PULUMI_TIMEOUT_S = 60


class LedgerError(Exception):
    """Raised when the stack's tags cannot be read or written (the CLI's message is kept)."""


def now() -> str:
    """UTC, to the second, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class LastKnownGood:
    """A deployment whose smoke gate passed: the commit, the stack's update, its config."""

    commit: str
    version: int
    config_sha: str
    at: str


@dataclass(frozen=True)
class Hold:
    """Why a stack may not be deployed (or promoted from) until released."""

    reason: str
    commit: str
    at: str
    report: str = ""


@dataclass(frozen=True)
class GateResult:
    """The outcome of the last gate run on the stack."""

    outcome: str
    commit: str
    at: str


class Ledger:
    """Reads and writes one stack's gate tags through the Pulumi CLI (run in `root`)."""

    def __init__(self, stack: str, root: Path) -> None:
        self.stack, self.root = stack, root

    def _pulumi(self, *args: str) -> str:
        """`pulumi <args> --stack <stack>`'s stdout; LedgerError naming the command otherwise."""
        what = f"`pulumi {' '.join(args[:3])}` on {self.stack}"
        try:
            done = subprocess.run(
                ["pulumi", *args, "--stack", self.stack],
                cwd=self.root,
                capture_output=True,
                text=True,
                timeout=PULUMI_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise LedgerError(
                f"{what} did not answer within {PULUMI_TIMEOUT_S}s (is the backend reachable?)"
            ) from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
            raise LedgerError(f"{what}: {detail[0]}")
        return done.stdout

    def tags(self) -> dict[str, str]:
        """Every tag of the stack."""
        raw = json.loads(self._pulumi("stack", "tag", "ls", "--json") or "{}")
        return {str(k): str(v) for k, v in raw.items()}

    def _get(self, tag: str, kind: type[Any]) -> Any:
        value = self.tags().get(tag)
        if not value:
            return None
        try:
            return kind(**json.loads(value))
        except (ValueError, TypeError):
            return None  # a tag written by hand: treated as absent, never trusted

    def _set(self, tag: str, record: Any) -> None:
        self._pulumi("stack", "tag", "set", tag, json.dumps(asdict(record), separators=(",", ":")))

    def last_known_good(self) -> LastKnownGood | None:
        return self._get(LKG_TAG, LastKnownGood)  # type: ignore[no-any-return]

    def hold(self) -> Hold | None:
        return self._get(HOLD_TAG, Hold)  # type: ignore[no-any-return]

    def last_gate(self) -> GateResult | None:
        return self._get(LAST_GATE_TAG, GateResult)  # type: ignore[no-any-return]

    def record_green(self, lkg: LastKnownGood) -> None:
        self._set(LKG_TAG, lkg)
        self._set(LAST_GATE_TAG, GateResult("green", lkg.commit, lkg.at))

    def record_gate(self, outcome: str, commit: str) -> None:
        self._set(LAST_GATE_TAG, GateResult(outcome[:170], commit, now()))

    def set_hold(self, hold: Hold) -> None:
        """Tag the stack held; the reason is shortened (with `...`) to fit one tag value."""
        report = hold.report[-60:]
        bare = len(
            json.dumps(asdict(Hold("", hold.commit, hold.at, report)), separators=(",", ":"))
        )
        room = TAG_VALUE_MAX - bare
        reason = hold.reason if len(hold.reason) <= room else hold.reason[: room - 3] + "..."
        self._set(HOLD_TAG, Hold(reason, hold.commit, hold.at, report))

    def release(self) -> bool:
        """Lift the hold; False when there was none."""
        if HOLD_TAG not in self.tags():
            return False
        self._pulumi("stack", "tag", "rm", HOLD_TAG)
        return True

    def update_count(self) -> int:
        """The stack's update number: the backend's version, else the number of updates."""
        try:
            history = json.loads(self._pulumi("stack", "history", "--json") or "[]")
        except (LedgerError, ValueError):
            return 0
        versions = [int(e.get("version") or 0) for e in history if isinstance(e, dict)]
        return max(versions, default=0) or len(versions)
