"""`review up`, `down`, `list` and `sweep` of local review stacks, over one checkout.

A review stack is the base stack's program with derived settings (review/settings.py), deployed
and smoked by the same gate as any stack (gate/gatekeeper.py): smoke runs against it like any
other stack, from its outputs. Each has its own servers (the measured choice: docs/review.md),
so its Redis, bucket, job server and error tracker are its own; its database is its own in the
base stack's Postgres (review/base.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from gate.exitcodes import Exit
from gate.gatekeeper import Gate, OnFail
from gate.lock import GateBusy, lock_path
from gate.runner import require_pulumi
from review import pulumi_cli, settings
from review.base import BASE_WAIT_S, wait_for_base
from review.errors import ReviewError
from review.lock import PORTS, held, is_held, review_lock
from review.naming import LOCAL_BASE, parse_review_stack, review_stack
from review.state import CREATING, FAILED, UP, Paths, Record, known_stacks, now
from review.teardown import teardown
from review.ttl import format_left

PORTS_LOCK_WAIT_S = 30.0

URL_PORTS = {"app": "appPort", "jobs": "inngestPort"}
BASE_URL_PORTS = {"errors": "errorTrackerPort"}  # its project is in the base's Bugsink


def _other_ports(root: Path, stack: str) -> set[int]:
    return {
        port
        for name in known_stacks(root) - {stack}
        if (record := Record.load(root, name)) is not None
        for port in record.ports.values()
    }


def _prepare(root: Path, stack: str, pr: int, ttl_s: float) -> Record:
    """Write (or refresh) the record and the generated settings; ports allocated once."""
    base = settings.base_config(root)
    keys = settings.port_keys(root)
    paths = Paths(root, stack)
    record = Record.load(root, stack)
    t = now()
    if record is None or set(record.ports) != set(keys):
        with review_lock(PORTS, root, PORTS_LOCK_WAIT_S):
            avoid = settings.reserved_ports(root, base) | _other_ports(root, stack)
            if record is not None:  # keep the ports it has, add the new servers'
                avoid -= set(record.ports.values())
            kept = {k: v for k, v in (record.ports if record else {}).items() if k in keys}
            ports = {**kept, **settings.allocate(stack, [k for k in keys if k not in kept], avoid)}
            record = record or Record(
                stack=stack, pr=pr, base=LOCAL_BASE, created_at=t, ttl_s=ttl_s, ports=ports
            )
            record.ports = ports
            record.updated_at, record.ttl_s, record.pid = t, ttl_s, os.getpid()
            record.save(root)  # before anything starts: a kill from here on is sweepable
            settings.write_settings(paths, settings.derive(stack, base, ports, paths))
    else:
        record.updated_at, record.ttl_s, record.pid = t, ttl_s, os.getpid()
        record.save(root)
        settings.write_settings(paths, settings.derive(stack, base, record.ports, paths))
    record.urls = {
        name: f"http://127.0.0.1:{record.ports[key]}"
        for name, key in URL_PORTS.items()
        if key in record.ports
    }
    declared = settings.port_defaults(root)
    record.urls |= {
        name: f"http://127.0.0.1:{base.get(f'{settings.NAMESPACE}:{key}', declared.get(key))}"
        for name, key in BASE_URL_PORTS.items()
    }
    return record


def up(
    root: Path,
    pr: int,
    ttl_s: float,
    lock_wait: float,
    deadline: float,
    base_wait: float = BASE_WAIT_S,
    say: Callable[[str], None] = print,
) -> Exit:
    """Create or update `pr-<pr>`, then gate it on smoke; the gate's exit code."""
    stack = review_stack(pr)
    require_pulumi()
    settings.base_config(root)  # bad base: exit 2 before the lock or any file
    with review_lock(stack, root, lock_wait):
        wait_for_base(root, base_wait, say)  # its database lives in the base's Postgres
        record = _prepare(root, stack, pr, ttl_s)
        Paths(root, stack).folder.mkdir(parents=True, exist_ok=True)
        pulumi_cli.ensure_stack(root, stack)
        gate = Gate(stack, OnFail.REPORT, deadline=deadline, root=root)
        code = gate.run()
        record.phase = UP if code == Exit.GREEN else (FAILED if record.phase != UP else UP)
        if code == Exit.INTERRUPTED and record.phase == FAILED:
            record.phase = CREATING  # never came up: sweep removes it as half-made
        record.last_gate = gate.outcome or code.name.lower()
        record.last_gate_at = now()
        record.save(root)
        return code


def down(root: Path, pr: int, lock_wait: float, say: Callable[[str], None]) -> Exit:
    """Remove `pr-<pr>` whole; GREEN also when it was already gone (said so)."""
    stack = review_stack(pr)
    require_pulumi()
    with review_lock(stack, root, lock_wait) as lock_file:
        if held(lock_path(stack, root)):
            raise GateBusy(f"{stack}: a gate of this stack is running; nothing was done")
        present = stack in known_stacks(root) or stack in pulumi_cli.review_stacks(root)
        started = time.monotonic()
        if not present:
            lock_file.unlink(missing_ok=True)
            say(f"{stack}: no such review stack (already gone); nothing to do")
            return Exit.GREEN
        for line in teardown(root, stack, lock_file):
            say(f"  {line}")
        took = time.monotonic() - started
        say(f"{stack}: removed in {took:.1f}s (no process, port, folder, file or stack left)")
        return Exit.GREEN


@dataclass(frozen=True)
class Listed:
    """One review stack as `review list` shows it."""

    stack: str
    phase: str
    age_s: float
    left_s: float
    last_gate: str
    urls: dict[str, str]

    def row(self) -> str:
        urls = " ".join(f"{k}={v}" for k, v in self.urls.items()) or "-"
        age = format_left(self.age_s) if self.age_s > 0 else "-"
        left = format_left(self.left_s) if self.phase != "half-made" else "-"
        return (
            f"{self.stack:<10} {self.phase:<10} {age:>7} {left:>8}  {self.last_gate or '-'}  {urls}"
        )


def listing(root: Path, clock: float | None = None) -> list[Listed]:
    """Every review stack of this checkout or its backend, with its record's facts."""
    t = now() if clock is None else clock
    names = known_stacks(root) | pulumi_cli.review_stacks(root)
    rows = []
    for name in sorted(names, key=lambda n: parse_review_stack(n) or 0):
        record = Record.load(root, name)
        if record is None:
            rows.append(Listed(name, "half-made", 0.0, 0.0, "", {}))
            continue
        busy = is_held(name, root)
        phase = "busy" if busy else record.phase
        rows.append(
            Listed(
                name,
                phase,
                t - record.created_at,
                record.expires_at - t,
                record.last_gate,
                record.urls,
            )
        )
    return rows


def sweep_reasons(root: Path, open_prs: set[int] | None, clock: float) -> dict[str, str]:
    """Review stacks to remove and why: expired, PR closed, half-made. A stack whose review
    command is running is never chosen."""
    chosen: dict[str, str] = {}
    for name in known_stacks(root) | pulumi_cli.review_stacks(root):
        if is_held(name, root):
            continue
        record = Record.load(root, name)
        pr = parse_review_stack(name)
        if record is None:
            chosen[name] = "half-made (no record)"
        elif record.phase == CREATING:
            chosen[name] = "half-made (its review up did not finish)"
        elif record.expires_at <= clock:
            chosen[name] = f"expired (TTL {format_left(record.ttl_s)})"
        elif open_prs is not None and pr not in open_prs:
            chosen[name] = f"pull request {pr} is not open"
    return chosen


def sweep(
    root: Path, open_prs: Iterable[int] | None, say: Callable[[str], None], clock: float | None
) -> Exit:
    """Remove every stack `sweep_reasons` chooses; FAILED when one could not be removed."""
    require_pulumi()
    chosen = sweep_reasons(
        root, None if open_prs is None else set(open_prs), now() if clock is None else clock
    )
    if not chosen:
        say("sweep: nothing to remove")
        return Exit.GREEN
    failed = 0
    for name, why in sorted(chosen.items()):
        say(f"{name}: {why}")
        try:
            with review_lock(name, root, 0.0) as lock_file:
                for line in teardown(root, name, lock_file):
                    say(f"  {line}")
            say(f"{name}: removed")
        except GateBusy:
            say(f"{name}: a review command started meanwhile; left for it")
        except ReviewError as exc:
            failed += 1
            say(f"{name}: NOT removed: {exc}")
    return Exit.FAILED if failed else Exit.GREEN
