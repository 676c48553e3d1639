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

from gate import interrupts

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
    """A deployment whose smoke gate passed: the commit (`+dirty` when the tree differed from
    it), the stack's update, the digest of its settings and of the migrations it applied (empty
    in records of older gates: such a deployment cannot be reproduced exactly)."""

    commit: str
    version: int
    config_sha: str
    at: str
    migrations: str = ""


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

    def pulumi(self, *args: str, timeout_s: float = PULUMI_TIMEOUT_S) -> str:
        """`pulumi <args> --stack <stack>`'s stdout; LedgerError naming the command otherwise
        (also when it does not end within `timeout_s`)."""
        what = f"`pulumi {' '.join(args[:3])}` on {self.stack}"
        try:
            # Its own session: a Ctrl-C in the terminal reaches the gate, which lets a tag
            # write finish (interrupts.deferred) instead of cutting it.
            done = subprocess.run(
                ["pulumi", *args, "--stack", self.stack],
                cwd=self.root,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                stdin=subprocess.DEVNULL,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            raise LedgerError(
                f"{what} did not answer within {timeout_s:g}s (is the backend reachable?)"
            ) from None
        except OSError as exc:
            raise LedgerError(f"{what}: cannot run pulumi ({exc.strerror or exc})") from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
            raise LedgerError(f"{what}: {detail[0]}")
        return done.stdout

    def tags(self) -> dict[str, str]:
        """Every tag of the stack."""
        raw = json.loads(self.pulumi("stack", "tag", "ls", "--json") or "{}")
        return {str(k): str(v) for k, v in raw.items()}

    def _get(self, tag: str, kind: type[Any], tags: dict[str, str] | None = None) -> Any:
        return _parse((self.tags() if tags is None else tags).get(tag), kind)

    def _set(self, tag: str, record: Any) -> None:
        value = json.dumps(asdict(record), separators=(",", ":"))
        with interrupts.deferred():
            self.pulumi("stack", "tag", "set", tag, value)

    def last_known_good(self, tags: dict[str, str] | None = None) -> LastKnownGood | None:
        """The LKG record (from `tags`, the stack's tags read once, when given)."""
        return self._get(LKG_TAG, LastKnownGood, tags)  # type: ignore[no-any-return]

    def hold(self, tags: dict[str, str] | None = None) -> Hold | None:
        """The stack's hold (from `tags` when given). Any value of the hold tag holds: one this
        gate cannot read (set by hand, by another tool) is a hold whose reason is that value."""
        value = (self.tags() if tags is None else tags).get(HOLD_TAG)
        if value is None:
            return None
        parsed = _parse(value, Hold)
        if isinstance(parsed, Hold):
            return parsed
        return Hold(f"hold tag set outside the gate: {value[:120]!r}", "?", "?")

    def last_gate(self) -> GateResult | None:
        return self._get(LAST_GATE_TAG, GateResult)  # type: ignore[no-any-return]

    def record_green(self, lkg: LastKnownGood) -> None:
        self._set(LKG_TAG, lkg)
        self._set(LAST_GATE_TAG, GateResult("green", lkg.commit, lkg.at))

    def record_gate(self, outcome: str, commit: str) -> None:
        self._set(LAST_GATE_TAG, GateResult(outcome[:170], commit, now()))

    def set_hold(self, hold: Hold) -> None:
        """Tag the stack held; the reason is shortened (with `...`) to fit one tag value."""
        self._set(HOLD_TAG, self._fitted(hold))

    @staticmethod
    def _fitted(hold: Hold) -> Hold:
        """`hold` as stored: report and reason shortened to fit one tag value."""
        report = hold.report[-60:]
        bare = len(
            json.dumps(asdict(Hold("", hold.commit, hold.at, report)), separators=(",", ":"))
        )
        room = TAG_VALUE_MAX - bare
        reason = hold.reason if len(hold.reason) <= room else hold.reason[: room - 3] + "..."
        return Hold(reason, hold.commit, hold.at, report)

    def release(self) -> bool:
        """Lift the hold (what `mentora-infra release` does); False when there was none."""
        if HOLD_TAG not in self.tags():
            return False
        with interrupts.deferred():
            self.pulumi("stack", "tag", "rm", HOLD_TAG)
        return True

    def release_own(self, hold: Hold) -> bool:
        """Lift the hold only if it is still `hold`, the one this gate set (a rollback's own
        marker); any other hold stays until `release`. True when lifted."""
        if _parse(self.tags().get(HOLD_TAG), Hold) != self._fitted(hold):
            return False
        with interrupts.deferred():
            self.pulumi("stack", "tag", "rm", HOLD_TAG)
        return True

    def update_count(self) -> int:
        """The stack's update number: the backend's version, else the number of updates."""
        try:
            history = json.loads(self.pulumi("stack", "history", "--json") or "[]")
        except (LedgerError, ValueError):
            return 0
        versions = [int(e.get("version") or 0) for e in history if isinstance(e, dict)]
        return max(versions, default=0) or len(versions)


def _parse(value: str | None, kind: type[Any]) -> Any:
    """The record a tag holds; None when absent or not one of ours (never trusted)."""
    if not value:
        return None
    try:
        return kind(**json.loads(value))
    except (ValueError, TypeError):
        return None
