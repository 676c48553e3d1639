"""The order of a benchmark run.

The cold path is measured in interleaved rounds (floor, providers directly, cold `up`), so
the three see the same background load on a shared machine; the median of each is reported.
After each cold up the idle stack's memory is read. The last round's stack stays up for the
rest: no-op ups, smoke, smoke through Toxiproxy, dead then hung services, destroy.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import faults, model, network, stack
from bench.bootstrap import bootstrap
from bench.cleanup import Cleanup
from bench.drift import drift
from bench.floor import floor
from bench.floor_servers import FloorServers
from bench.health_burst import health_burst
from bench.memory import idle_memory
from bench.migrations import migrations
from bench.model import Report
from bench.project import BenchProject
from bench.providers import providers_direct, wait_lag
from bench.rotation import rotation
from bench.s3_put import s3_put_cost
from bench.watch import watch, watch_transitions

# Each step and the required measurements it produces (`--only` picks among them).
STEPS: dict[str, tuple[str, ...]] = {
    "bootstrap": (model.BOOTSTRAP,),
    "floor": (model.FLOOR, model.MIGRATE, model.MIGRATE_RERUN, model.BUGSINK_MIGRATE),
    "providers": (),
    "s3": (model.S3_PUT_EMPTY, model.S3_PUT_FULL),
    "stack": (
        model.COLD_UP,
        model.MEMORY_TOTAL,
        model.NOOP_UP,
        model.REFRESH_UP,
        model.SMOKE,
        model.SMOKE_SLOWEST,
    ),
    "network": tuple(f"{model.NET_PREFIX}{ms}" for ms in model.NET_LATENCIES_MS),
    "watch": (model.WATCH_ROUND, model.WATCH_RSS, model.WATCH_DOWN, model.WATCH_UP),
    "rotation": (
        *(f"{model.ROTATE_FAILED_PREFIX}{kind}" for kind in model.ROTATED_KINDS),
        model.ROTATE_ALL,
    ),
    "drift": (model.DRIFT,),
    "detection": tuple(
        f"{prefix}{name}"
        for prefix in (model.DETECT_PREFIX, model.HUNG_PREFIX)
        for name in model.DETECTED_SERVICES
    ),
}
# Steps that run on the warm stack, so need the `stack` step.
NEED_STACK = ("network", "detection", "watch", "rotation", "drift")


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def step(report: Report, name: str, action: Callable[[], object]) -> bool:
    """Run one step; an exception (not an interrupt) is recorded and the run goes on."""
    say(f"{name} ...")
    start = time.monotonic()
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - a broken step is reported, not fatal
        report.fail(name, f"{type(exc).__name__}: {exc}")
        say(f"{name}: FAILED ({type(exc).__name__})")
        return False
    say(f"{name}: done in {time.monotonic() - start:.1f}s")
    return True


class Run:
    """One benchmark run: its report, its cleanup, its temp folder and the chosen steps."""

    def __init__(self, report: Report, cleanup: Cleanup, base: Path, only: set[str], samples: int):
        self.report, self.cleanup, self.base = report, cleanup, base
        self.only, self.samples = only, samples
        self.project: BenchProject | None = None

    def all(self) -> None:
        if "bootstrap" in self.only:
            step(self.report, "bootstrap", lambda: bootstrap(self.report, self.samples))
        if "s3" in self.only:
            report, cleanup, base = self.report, self.cleanup, self.base
            step(report, "S3 PUT cost", lambda: s3_put_cost(report, cleanup, base, self.samples))
        for n in range(self.samples):
            self.cold_round(n, last=n == self.samples - 1)
        if self.project is not None:
            self.warm(self.project)

    def cold_round(self, n: int, last: bool) -> None:
        report, tag = self.report, f"round {n + 1}/{self.samples}"
        if "floor" in self.only:
            servers = FloorServers(self.base / f"floor-{n}")
            self.cleanup.push(f"stop the floor servers of {tag}", servers.stop)
            if step(report, f"floor, {tag}", lambda: floor(report, servers)) and n == 0:
                admin_url = servers.servers["postgres"].outputs()["admin_url"]
            step(report, "migrations", lambda: migrations(report, admin_url, self.samples))
            step(report, "stop the floor servers", servers.stop)
        if "providers" in self.only:
            state = self.base / f"direct-{n}"
            step(report, f"providers, {tag}", lambda: providers_direct(report, self.cleanup, state))
            if n == 0:
                step(report, "readiness poll lag", lambda: wait_lag(report))
        if "stack" in self.only:
            step(report, f"cold up, {tag}", lambda: self.cold_up(n, last))

    def cold_up(self, n: int, last: bool) -> None:
        project = BenchProject.new(self.base / f"stack-{n}")
        self.cleanup.push("destroy the throwaway stack", project.teardown)
        stack.cold_up(self.report, project)
        step(self.report, "idle memory", lambda: idle_memory(self.report, project))
        if last:
            self.project = project
        else:
            stack.destroy(self.report, project)
            project.teardown()

    def warm(self, project: BenchProject) -> None:
        report, samples = self.report, self.samples
        step(report, "no-op up", lambda: stack.noop_ups(report, project, samples))
        step(report, "smoke", lambda: stack.smoke(report, project, samples, self.base))
        step(report, "health burst", lambda: health_burst(report, project))
        if "network" in self.only:
            step(
                report,
                "smoke through Toxiproxy",
                lambda: network.slow_network(report, project, self.cleanup, self.base, samples),
            )
        if "watch" in self.only:
            base = self.base
            rounds = max(samples, 5)  # cheap: a second each
            step(report, "watch", lambda: watch(report, project, rounds, base))
            step(report, "watch transitions", lambda: watch_transitions(report, project, base))
        if "drift" in self.only:  # before detection: the stack is clean here
            step(report, "drift", lambda: drift(report, project, samples))
        if "rotation" in self.only:
            step(report, "rotation", lambda: rotation(report, project))
        if "detection" in self.only:
            base = self.base
            dead = step(report, "dead services", lambda: faults.detection(report, project, base))
            frozen = step(report, "hung services", lambda: faults.hung(report, project, base))
            if dead and frozen:
                step(report, "smoke after heals", lambda: faults.final_smoke(report, project))
        step(report, "destroy", lambda: stack.destroy(report, project))
