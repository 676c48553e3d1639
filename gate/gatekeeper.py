"""The gate: deploy a stack, smoke it, and on failure report, hold or roll back.

- A green gate records the last-known-good (LKG) deployment on the stack (gate/ledger.py).
- `report`: the failure is reported, nothing else happens (dev, local by default).
- `hold`: the stack is tagged held; `up` of it, and of every stack promoted from it (prod after
  dev), refuses until `mentora-infra release <stack>` (prod by default).
- `rollback`: the LKG commit's program and config are deployed and smoked again — unless the
  failed update brought migrations the LKG commit does not have (migrations only go forward):
  then the stack is held, naming them. The hold is set before the rollback starts and lifted
  only when it ends green, so an interrupted rollback leaves the stack held, never half-marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from gate import promote, rollback, source
from gate.exitcodes import Exit
from gate.ledger import Hold, LastKnownGood, Ledger, now
from gate.runner import REPO, Checkout, console, require_pulumi, stack_target

# Stacks a stack is promoted from: a hold on dev also stops prod.
PROMOTED_FROM: dict[str, tuple[str, ...]] = {"prod": ("dev",)}


class OnFail(StrEnum):
    """What a failed gate does next."""

    REPORT = "report"
    HOLD = "hold"
    ROLLBACK = "rollback"


def default_on_fail(stack: str) -> OnFail:
    """`hold` for prod, `report` for every other stack."""
    return OnFail.HOLD if stack == "prod" else OnFail.REPORT


@dataclass
class Gate:
    """One gate run of `stack` from the checkout in `root`."""

    stack: str
    on_fail: OnFail
    deadline: float = 120.0
    read_only: bool = False
    junit: Path | None = None
    json_path: Path | None = None
    root: Path = REPO
    outcome: str = ""
    facts: dict[str, str] = field(default_factory=dict)

    def ledger(self, stack: str | None = None) -> Ledger:
        return Ledger(stack or self.stack, self.root)

    def holds(self) -> list[tuple[str, Hold]]:
        """(stack, hold) for this stack and every stack it is promoted from that is held."""
        found = []
        for name in (self.stack, *PROMOTED_FROM.get(self.stack, ())):
            hold = self.ledger(name).hold()
            if hold is not None:
                found.append((name, hold))
        return found

    def run(self, override_hold: bool = False) -> Exit:
        """Deploy, smoke, and act on the result; the exit code (gate/exitcodes.py)."""
        require_pulumi()
        held = self.holds()
        if held and not override_hold:
            for name, hold in held:
                console.print(
                    f"[red]{name} is held[/] since {hold.at} ({hold.reason}; commit "
                    f"{hold.commit[:12]}): not deploying {self.stack}. Lift it: "
                    f"mentora-infra release {name} (or pass --override-hold)"
                )
            self.outcome = f"refused: {held[0][0]} is held"
            return Exit.HELD
        commit = source.head_commit(self.root)
        checkout = Checkout(self.root)
        code = checkout.pulumi(self.stack, "up", "--yes", "--skip-preview", "--refresh")
        if code != 0:
            return self.failed(commit, f"deployment of {commit[:12]} failed (pulumi exit {code})")
        problem = promote.before_smoke(self.stack, self.root)  # cloud: Inngest sync
        if problem:
            return self.failed(commit, problem)
        smoke = checkout.smoke(
            self.stack,
            junit=self.junit,
            json_path=self.json_path,
            read_only=self.read_only,
            deadline=self.deadline,
        )
        if smoke is Exit.GREEN:
            # Cloud: only now does the smoked deployment reach the production domains.
            problem = promote.after_green_smoke(self.stack, self.root, self.facts)
            return self.failed(commit, problem) if problem else self.green(commit)
        if smoke is Exit.DEADLINE:
            self.failed(commit, "smoke hit its deadline")
            return Exit.DEADLINE
        return self.failed(commit, f"smoke of {commit[:12]} failed")

    def green(self, commit: str) -> Exit:
        ledger = self.ledger()
        ledger.record_green(
            LastKnownGood(commit, ledger.update_count(), source.config_digest(self.stack), now())
        )
        ledger.release()  # a green deployment (even one overriding a hold) is no longer held
        self.outcome = "green"
        console.print(f"[green]gate passed[/]: {self.stack} at {commit[:12]} is last-known-good")
        return Exit.GREEN

    def failed(self, commit: str, why: str) -> Exit:
        promote.after_failed_gate(self.stack, self.root)  # cloud: Inngest back to production
        if self.on_fail is OnFail.REPORT:
            return self._end(commit, f"failed: {why}", Exit.FAILED)
        if self.on_fail is OnFail.HOLD:
            return self._hold(commit, why)
        return self._roll_back(commit, why)

    def _end(self, commit: str, outcome: str, code: Exit) -> Exit:
        self.outcome = outcome
        self.ledger().record_gate(outcome, commit)
        colour = "yellow" if code is Exit.ROLLED_BACK else "red"
        console.print(f"[{colour}]gate: {outcome}[/] (exit {int(code)})")
        return code

    def _hold(self, commit: str, reason: str) -> Exit:
        report = str(self.json_path or self.junit or "")
        self.ledger().set_hold(Hold(reason, commit, now(), report))
        console.print(f"lift the hold once fixed: mentora-infra release {self.stack}")
        return self._end(commit, f"held: {reason}", Exit.HELD)

    def _roll_back(self, commit: str, why: str) -> Exit:
        if stack_target(self.stack, self.root) == "cloud":
            return self._repromote(commit, why)
        lkg = self.ledger().last_known_good()
        if lkg is None:
            return self._hold(commit, f"{why}; no last-known-good deployment to roll back to")
        self.facts["lkg"] = lkg.commit
        try:
            rollback.ensure_commit(lkg.commit, self.root)
            new = sorted(source.migrations_here(self.root) - source.migrations_in(lkg.commit))
        except (rollback.RollbackError, source.SourceError) as exc:
            return self._hold(commit, f"{why}; rollback failed: {exc}")
        if new:
            return self._hold(
                commit,
                f"{why}; not rolled back across a schema change: {', '.join(new)} "
                f"(not in {lkg.commit[:12]}; fix forward with a new migration)",
            )
        # Held first: an interrupted rollback leaves the stack held, never half-marked.
        self.ledger().set_hold(
            Hold(f"{why}; rollback to {lkg.commit[:12]} interrupted", commit, now())
        )
        try:
            rollback.deploy_commit(lkg.commit, self.stack, self.deadline, self.root)
        except (rollback.RollbackError, source.SourceError) as exc:
            return self._hold(commit, f"{why}; rollback failed: {exc}")
        self.ledger().release()
        outcome = f"failed, rolled back to {lkg.commit[:12]}, smoke green"
        return self._end(commit, outcome, Exit.ROLLED_BACK)

    def _repromote(self, commit: str, why: str) -> Exit:
        """Cloud: production never left the last-known-good deployment unless a promotion ran;
        point the domains at it again (instant, no rebuild)."""
        try:
            lkg = promote.repromote_lkg(self.stack, self.root, self.facts)
        except promote.PromoteError as exc:
            return self._hold(commit, f"{why}; {exc}")
        outcome = f"failed; production re-promoted to last-known-good deployment {lkg}"
        return self._end(commit, outcome, Exit.ROLLED_BACK)
