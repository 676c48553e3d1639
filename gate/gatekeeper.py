"""The gate: deploy a stack, smoke it, and on failure report, hold or roll back.

- A green gate records the last-known-good (LKG) deployment on the stack (gate/ledger.py).
- `report`: the failure is reported, nothing else happens (dev, local by default).
- `hold`: the stack is tagged held; `up` of it, and of every stack promoted from it (prod after
  dev), refuses until `mentora-infra release <stack>` (prod by default).
- `rollback`: the LKG commit's program and config are deployed and smoked again — unless that
  would not bring back exactly what was green (the LKG was deployed from a dirty tree, with
  settings or migrations its commit does not have) or the failed update brought migrations the
  LKG commit does not have (migrations only go forward): then the stack is held, naming why.
  The hold is set before the rollback starts and lifted only when it ends green, so an
  interrupted rollback leaves the stack held, never half-marked.

One gate per stack at a time (gate/lock.py): the lock is taken before the ledger is read and
kept through deploy, smoke and rollback; a gate that finds it taken, or finds Pulumi's own lock
on the stack taken, changes nothing and exits BUSY. Only `mentora-infra release` lifts a hold.
SIGINT/SIGTERM (gate/interrupts.py) cancel pulumi gracefully and end the gate INTERRUPTED;
they never start a rollback.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from gate import interrupts, promote, rollback, source
from gate.exitcodes import Exit
from gate.interrupts import Interrupted
from gate.ledger import Hold, LastKnownGood, Ledger, LedgerError, now
from gate.lock import GateBusy, gate_lock
from gate.runner import (
    REPO,
    Checkout,
    GateUsageError,
    console,
    read_stack_file,
    require_pulumi,
    stack_target,
)
from recovery import aside
from rotation.resume import finish_interrupted

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
    lock_wait: float = 0.0
    allow_data_loss: bool = False
    keep_aside: bool = False
    """Leave the data a `restore` kept aside even when green (the restore's own gate)."""
    replace: tuple[str, ...] = ()
    """URNs `pulumi up` replaces (`--replace`): a rotation that can only reset a credential."""
    lock_held: bool = False
    """The caller already holds the stack's gate lock (a cloud rotation's own gate): the run
    neither takes it again nor reconciles the rotation that is running it."""
    outcome: str = ""
    facts: dict[str, str] = field(default_factory=dict)
    phase: str = "start"
    digests: tuple[str, str] = ("", "")
    """The settings and migrations digests of what is deployed, taken before `pulumi up`."""

    def ledger(self, stack: str | None = None) -> Ledger:
        return Ledger(stack or self.stack, self.root)

    def holds(self, own_tags: dict[str, str] | None = None) -> list[tuple[str, Hold]]:
        """(stack, hold) for this stack (from `own_tags` when given) and every stack it is
        promoted from that is held."""
        found = []
        for name in (self.stack, *PROMOTED_FROM.get(self.stack, ())):
            hold = self.ledger(name).hold(own_tags if name == self.stack else None)
            if hold is not None:
                found.append((name, hold))
        return found

    def run(self, override_hold: bool = False) -> Exit:
        """Deploy, smoke, and act on the result, holding the stack's gate lock throughout; the
        exit code (gate/exitcodes.py)."""
        require_pulumi()
        read_stack_file(self.stack, self.root)  # not YAML: GateUsageError naming the line
        commit = source.head_commit(self.root)
        # Unknown digests (git cannot answer): a rollback to this deployment holds, naming why.
        with contextlib.suppress(source.SourceError):
            self.digests = (
                source.config_digest(self.stack, self.root),
                source.migrations_digest(source.migration_blobs_here(self.root)),
            )
        with interrupts.handled():
            try:
                lock = (
                    contextlib.nullcontext()
                    if self.lock_held
                    else gate_lock(self.stack, self.root, self.lock_wait)
                )
                with lock:
                    try:
                        return self._run_locked(commit, override_hold)
                    except Interrupted as exc:
                        return self._interrupted(commit, exc)
            except GateBusy as exc:
                self.outcome = "busy: another gate or update holds the stack"
                console.print(f"[red]gate busy[/]: {exc} (exit {int(Exit.BUSY)})")
                return Exit.BUSY
            except Interrupted as exc:  # while waiting for the lock
                self.outcome = f"interrupted by {exc.name} before it started"
                console.print(f"[red]gate: {self.outcome}[/] (exit {int(Exit.INTERRUPTED)})")
                return Exit.INTERRUPTED

    def _is_last_known_good(self, commit: str, tags: dict[str, str] | None = None) -> bool:
        """Whether `commit` with these settings and migrations is what last passed the gate."""
        lkg = self.ledger().last_known_good(tags)
        settings, migrations = self.digests
        return (
            lkg is not None
            and not commit.endswith(source.DIRTY)
            and lkg.commit == commit
            and bool(settings)
            and (lkg.config_sha, lkg.migrations) == (settings, migrations)
        )

    def _run_locked(self, commit: str, override_hold: bool) -> Exit:
        # The stack's tags, read once for the hold and the last-known-good (a CLI call, ~1 s).
        tags = self.ledger().tags()
        held = self.holds(tags)
        if held and not override_hold:
            for name, hold in held:
                console.print(
                    f"[red]{name} is held[/] since {hold.at} ({hold.reason}; commit "
                    f"{hold.commit[:12]}): not deploying {self.stack}. Lift it: "
                    f"mentora-infra release {name} (or pass --override-hold)"
                )
            self.outcome = f"refused: {held[0][0]} is held"
            return Exit.HELD
        checkout = Checkout(self.root, allow_data_loss=self.allow_data_loss)
        self.phase = "pulumi up"
        # With its preview: a change that would lose a server's data is refused there, before
        # any resource is touched (a skipped preview meets the refusal half-way through). The
        # last green deployment again (same clean commit and settings) changes no server's
        # identity: its preview (2 s) is skipped.
        again = self._is_last_known_good(commit, tags) and not self.replace
        replaced = [arg for urn in self.replace for arg in ("--replace", urn)]
        code = checkout.pulumi(
            self.stack,
            "up",
            "--yes",
            "--refresh",
            *replaced,
            *(["--skip-preview"] if again else []),
        )
        if code != 0:
            return self.failed(commit, f"deployment of {commit[:12]} failed (pulumi exit {code})")
        interrupted = (
            "" if self.lock_held else finish_interrupted(self.stack, self.root, console.print)
        )
        if interrupted:
            return self.failed(commit, interrupted)
        problem = promote.before_smoke(self.stack, self.root)  # cloud: Inngest sync
        if problem:
            return self.failed(commit, problem)
        self.phase = "smoke"
        smoke = checkout.smoke(
            self.stack,
            junit=self.junit,
            json_path=self.json_path,
            read_only=self.read_only,
            deadline=self.deadline,
        )
        if smoke is Exit.INTERRUPTED:
            raise Interrupted()  # pytest was stopped by a signal: not a failed check
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
        self.phase = "recording"
        settings, migrations = self.digests
        lkg = LastKnownGood(commit, ledger.update_count(), settings, now(), migrations)
        ledger.record_green(lkg)
        self.outcome = "green"
        console.print(f"[green]gate passed[/]: {self.stack} at {commit[:12]} is last-known-good")
        if commit.endswith(source.DIRTY):
            console.print(
                "[yellow]deployed from a tree with uncommitted changes[/]: recorded as "
                f"{commit[:12]}+dirty, which a rollback will not deploy (commit, then gate again)"
            )
        if not self.keep_aside:
            aside.release_after_green(self.stack, self.root, lambda s: console.print(f"gate: {s}"))
        if (hold := ledger.hold()) is not None:  # deployed with --override-hold
            console.print(
                f"[yellow]{self.stack} is still held[/] ({hold.reason}): only "
                f"`mentora-infra release {self.stack}` lifts it"
            )
        return Exit.GREEN

    def _interrupted(self, commit: str, exc: Interrupted) -> Exit:
        """A signal ended the gate: nothing rolled back; a rollback under way stays held."""
        rolling = self.phase == "rollback"
        self.outcome = f"interrupted by {exc.name} during {self.phase}" + (
            "; the stack stays held (release it once checked)" if rolling else ""
        )
        with contextlib.suppress(LedgerError, Interrupted):  # printed below; tag best effort
            self.ledger().record_gate(self.outcome, commit)
        console.print(
            f"[red]gate: {self.outcome}[/] (exit {int(Exit.INTERRUPTED)}); "
            f"see `mentora-infra status {self.stack}`"
        )
        return Exit.INTERRUPTED

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
            sha = rollback.ensure_commit(lkg.commit, self.root)
            new = sorted(source.migrations_here(self.root) - source.migrations_in(sha, self.root))
        except (rollback.RollbackError, source.SourceError) as exc:
            return self._hold(commit, f"{why}; rollback failed: {exc}")
        if new:
            return self._hold(
                commit,
                f"{why}; not rolled back across a schema change: {', '.join(new)} "
                f"(not in {lkg.commit[:12]}; fix forward with a new migration)",
            )
        if (reason := rollback.unreproducible(lkg, self.stack, self.root)) is not None:
            return self._hold(commit, f"{why}; not rolled back: {reason}")
        # Held first: an interrupted rollback leaves the stack held, never half-marked.
        marker = Hold(f"{why}; rollback to {lkg.commit[:12]} interrupted", commit, now())
        self.ledger().set_hold(marker)
        self.phase = "rollback"
        try:
            rollback.deploy_commit(lkg.commit, self.stack, self.deadline, self.root)
        except (
            rollback.RollbackError,
            source.SourceError,
            GateUsageError,
            GateBusy,
            OSError,
        ) as exc:
            return self._hold(commit, f"{why}; rollback failed: {exc}")
        self.ledger().release_own(marker)
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
