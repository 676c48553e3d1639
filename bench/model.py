"""What a benchmark run produces: measurements, the targets they are held to, the verdict.

Pure data and arithmetic (no processes): the runners in this package fill a `Report`, then
`attach_targets` compares it with the issue's targets.

>>> report = Report()
>>> _ = report.add(Measurement("floor", "raw floor", [2.0]))
>>> _ = report.add(Measurement("cold_up", "cold up", [5.5]))
>>> attach_targets(report)
>>> [(t.label, t.met) for t in report.get("cold_up").targets]
[('<= 15 s', True), ('<= 2.5x floor', False)]
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

# The targets. Seconds unless the name says RATIO. Issue 10 (the 6-server stack) replaced issue
# 5's cold up (45 s, 2x floor), no-op up (8 s) and smoke wall (3 s) limits; issue 5 still sets
# the smoke/slowest-check ratio and the migrations; issue 13 the hung-service detection and the
# smoke across a slow network.
COLD_UP_MAX_S = 15.0
COLD_UP_MAX_FLOOR_RATIO = 2.5
NOOP_UP_MAX_S = 3.0
SMOKE_MAX_S = 4.0
SMOKE_MAX_SLOWEST_RATIO = 1.5
# Issue 18 (the smoke engine): healthy smoke within its slowest check + 0.6 s; through
# Toxiproxy at +100 ms no slower than before the engine (3.93 s); dead services named within
# 3 s, hung ones (SIGSTOP: the kernel accepts the connection, no reply comes, so the hang is in
# the client's setup) within 4 s; it tightened issues 5 and 13's 5 s.
SMOKE_MAX_OVER_SLOWEST_S = 0.6
SLOW_NET_MAX_S = 3.93
DETECT_MAX_S = 3.0
HUNG_MAX_S = 4.0
MIGRATE_MAX_S = 2.0
MIGRATE_RERUN_MAX_S = 0.3
# Smoke through Toxiproxy with this much latency per hop: wall <= this + its slowest check.
SLOW_NET_LATENCY_MS = 100
SLOW_NET_BASE_S = 2.5
# Issue 19: a local S3 write costs the same whatever the store holds.
S3_PUT_MAX_RATIO = 1.2
# Issue 24: one `watch` round on the local stack, and the idle memory of a running watch.
WATCH_ROUND_MAX_S = 1.5
WATCH_RSS_MAX_MB = 80.0
# Issue 24: with `watch --every 5`, a killed server is reported down, and healed up, within 2.
WATCH_DETECT_EVERY_S = 5
# Issue 23: each credential rotated under load without a failed request; `rotate all` <= 30 s.
ROTATE_ALL_MAX_S = 30.0
# Issue 23: `drift` on the local stack (its state byte-identical after).
DRIFT_MAX_S = 5.0

# Measurement keys shared by the runners and the target rules.
BOOTSTRAP = "bootstrap_cached"
FLOOR = "floor"
COLD_UP = "cold_up"
NOOP_UP = "noop_up"
REFRESH_UP = "noop_up_refresh"
SMOKE = "smoke"
SMOKE_SLOWEST = "smoke_slowest_check"
MIGRATE = "migrations_from_zero"
MIGRATE_RERUN = "migrations_rerun"
DETECT_PREFIX = "detect_"
HUNG_PREFIX = "hung_"
MEMORY_TOTAL = "memory_total"
BUGSINK_MIGRATE = "floor_bugsink_migrate"
S3_PUT_EMPTY = "s3_put_1kb_empty"
S3_PUT_FULL = "s3_put_1kb_1gb_stored"
WATCH_ROUND = "watch_round"
WATCH_RSS = "watch_rss_idle"
WATCH_DOWN = "watch_reports_down"
WATCH_UP = "watch_reports_up"
ROTATE_FAILED_PREFIX = "rotate_failed_"
ROTATE_ALL = "rotate_all"
ROTATED_KINDS = ("database", "cache", "storage", "errors")
DRIFT = "drift_local"
# Smoke through Toxiproxy: `smoke_net_<ms>` wall, `smoke_net_<ms>_slowest` its slowest check.
NET_PREFIX = "smoke_net_"
NET_LATENCIES_MS = (0, 50, SLOW_NET_LATENCY_MS)
# The services killed (then frozen) one at a time, and the name smoke's summary gives each.
DETECTED_SERVICES = {
    "postgres": "database",
    "redis": "cache",
    "storage": "storage",
    "app": "app",
    "jobs": "jobs",
    "errors": "errors",
}

# Rows every complete run has: a missing one (its step broke) is shown as not measured.
REQUIRED: dict[str, str] = {
    BOOTSTRAP: "bootstrap, everything installed",
    FLOOR: "floor: the providers' own steps, no lifecycle, no engine",
    COLD_UP: "cold `pulumi up` from nothing",
    NOOP_UP: "no-op `pulumi up` (second up)",
    REFRESH_UP: "no-op `pulumi up --refresh` (make up)",
    SMOKE: "smoke suite wall time (healthy)",
    SMOKE_SLOWEST: "smoke: slowest single check",
    MIGRATE: "migrations from zero (runner)",
    MIGRATE_RERUN: "migrations re-run, nothing pending",
    BUGSINK_MIGRATE: "floor: Bugsink one-time migrations (both databases)",
    S3_PUT_EMPTY: "S3: 1 KB PUT, empty store",
    S3_PUT_FULL: "S3: 1 KB PUT, 1024 MB stored",
    MEMORY_TOTAL: "RSS of the whole idle local stack (6 servers)",
    WATCH_ROUND: "watch: one round of the read-only checks (healthy)",
    WATCH_RSS: "watch: RSS of the running watch between rounds",
    WATCH_DOWN: "watch --every 5: redis killed -> reported down",
    WATCH_UP: "watch --every 5: `up --refresh` healed it -> reported up",
    DRIFT: "drift: `mentora-infra drift local`, clean stack, state unchanged",
    **{
        f"{DETECT_PREFIX}{name}": f"detect dead {name}: smoke start -> non-zero exit"
        for name in DETECTED_SERVICES
    },
    **{
        f"{HUNG_PREFIX}{name}": f"detect hung {name} (SIGSTOP): smoke start -> exit"
        for name in DETECTED_SERVICES
    },
    **{f"{NET_PREFIX}{ms}": f"smoke via Toxiproxy, +{ms} ms per hop" for ms in NET_LATENCIES_MS},
}


def median(samples: Iterable[float]) -> float | None:
    """The median of the samples, None when there is none.

    >>> median([3.0, 1.0, 2.0]), median([])
    (2.0, None)
    """
    values = list(samples)
    return statistics.median(values) if values else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, None when either is missing or the denominator is not positive.

    >>> ratio(6.0, 3.0), ratio(6.0, 0.0), ratio(None, 3.0)
    (2.0, None, None)
    """
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class Target:
    """An upper bound: the compared value must be <= limit; `unit` is "s" or "x" (a ratio)."""

    label: str
    limit: float
    value: float | None
    unit: str = "s"

    @property
    def met(self) -> bool | None:
        """True/False, or None when the value could not be measured."""
        return None if self.value is None else self.value <= self.limit


@dataclass
class Measurement:
    """One timed quantity: its samples (seconds), the targets it is held to, and notes.

    `group` sorts rows into the table's sections ("main", "smoke check", "floor step", ...);
    `unit` is "s" for times, "MB" for memory rows.
    """

    key: str
    label: str
    samples: list[float] = field(default_factory=list)
    group: str = "main"
    targets: list[Target] = field(default_factory=list)
    note: str = ""
    error: str | None = None
    unit: str = "s"

    @property
    def seconds(self) -> float | None:
        """The median sample, the value reported and compared with the targets."""
        return median(self.samples)


@dataclass
class Report:
    """Every measurement of one run, in the order measured, plus errors of broken steps."""

    measurements: list[Measurement] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)
    interrupted: bool = False

    def add(self, measurement: Measurement) -> Measurement:
        self.measurements.append(measurement)
        return measurement

    def row(self, key: str, label: str | None = None, group: str = "main") -> Measurement:
        """The measurement `key`, added (label from REQUIRED by default) if not there yet."""
        found = self.get(key)
        if found is None:
            found = self.add(Measurement(key, label or REQUIRED.get(key, key), group=group))
        return found

    def get(self, key: str) -> Measurement | None:
        return next((m for m in self.measurements if m.key == key), None)

    def seconds(self, key: str) -> float | None:
        found = self.get(key)
        return found.seconds if found else None

    def fail(self, step: str, message: str) -> None:
        """Record that a step of the benchmark itself broke (the run then exits non-zero)."""
        self.errors.append({"step": step, "error": message})

    def complete(self, keys: Iterable[str] = tuple(REQUIRED)) -> None:
        """Add an empty row for each of `keys` (required measurements) no step produced."""
        why = "interrupted" if self.interrupted else "see errors"
        for key in keys:
            if self.get(key) is None:
                self.add(Measurement(key, REQUIRED[key], error=f"not measured ({why})"))

    @property
    def targets(self) -> list[Target]:
        return [t for m in self.measurements for t in m.targets]

    @property
    def all_targets_met(self) -> bool:
        """Every target measured and met (an unmeasured target counts as not met)."""
        return bool(self.targets) and all(t.met for t in self.targets)

    @property
    def exit_code(self) -> int:
        """0 when the benchmark ran (targets may be missed), 1 when it broke, 130 interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.errors else 0


def add_derived(report: Report) -> None:
    """Rows computed from others: engine overhead of the cold up, smoke time outside pytest's
    session (interpreter, plugins, `pulumi stack output`), the smoke session's own ratio."""
    engine = _difference(report.get(COLD_UP), report.get("providers_direct"))
    if engine is not None:
        label = "engine + program overhead (cold up - providers)"
        report.add(Measurement("engine_overhead", label, [engine], group="cold path"))
    smoke, session = report.get(SMOKE), report.get("smoke_session")
    outside = _difference(smoke, session)
    if outside is not None:
        label = "outside the session: python, pytest, plugins, outputs"
        report.add(Measurement("smoke_outside_session", label, [outside], group="smoke part"))
    checks_ratio = ratio(report.seconds("smoke_session"), report.seconds(SMOKE_SLOWEST))
    if smoke is not None and checks_ratio is not None:
        smoke.note = f"pytest session alone is {checks_ratio:.2f}x the slowest check"


def _difference(minuend: Measurement | None, subtrahend: Measurement | None) -> float | None:
    if minuend is None or subtrahend is None:
        return None
    if minuend.seconds is None or subtrahend.seconds is None:
        return None
    return minuend.seconds - subtrahend.seconds


def _at_most(limit: float, value: float | None, of: str | None = None) -> Target:
    """`<= 45 s` for seconds; `<= 2x floor` for a ratio to the measurement named `of`."""
    if of is None:
        return Target(f"<= {limit:g} s", limit, value)
    return Target(f"<= {limit:g}x {of}", limit, value, unit="x")


def slow_net_target(wall: float | None, slowest: float | None) -> Target:
    """Issue 13: smoke at +100 ms per hop within 2.5 s + its own slowest check.

    >>> slow_net_target(3.0, 0.75).label, slow_net_target(3.0, 0.75).met
    ('<= 2.5 s + slowest check (0.75 s)', True)
    >>> slow_net_target(3.0, None).met is None
    True
    """
    if slowest is None:
        return Target(f"<= {SLOW_NET_BASE_S:g} s + slowest check", SLOW_NET_BASE_S, None)
    label = f"<= {SLOW_NET_BASE_S:g} s + slowest check ({slowest:.2f} s)"
    return Target(label, SLOW_NET_BASE_S + slowest, wall)


def over_slowest_target(wall: float | None, slowest: float | None) -> Target:
    """Issue 18: the healthy smoke's wall within its slowest check + 0.6 s.

    >>> over_slowest_target(1.8, 1.25).label, over_slowest_target(1.8, 1.25).met
    ('<= slowest check (1.25 s) + 0.6 s', True)
    """
    extra = SMOKE_MAX_OVER_SLOWEST_S
    if slowest is None:
        return Target(f"<= slowest check + {extra:g} s", extra, None)
    return Target(f"<= slowest check ({slowest:.2f} s) + {extra:g} s", slowest + extra, wall)


def attach_targets(report: Report) -> None:
    """Set each measurement's targets from the issue; ratios use other measurements of the run."""
    for m in report.measurements:
        if m.key == COLD_UP:
            m.targets = [
                _at_most(COLD_UP_MAX_S, m.seconds),
                _at_most(COLD_UP_MAX_FLOOR_RATIO, ratio(m.seconds, report.seconds(FLOOR)), "floor"),
            ]
        elif m.key in (NOOP_UP, REFRESH_UP):
            m.targets = [_at_most(NOOP_UP_MAX_S, m.seconds)]
        elif m.key == SMOKE:
            slowest = ratio(m.seconds, report.seconds(SMOKE_SLOWEST))
            m.targets = [
                _at_most(SMOKE_MAX_S, m.seconds),
                _at_most(SMOKE_MAX_SLOWEST_RATIO, slowest, "slowest check"),
                over_slowest_target(m.seconds, report.seconds(SMOKE_SLOWEST)),
            ]
        elif m.key.startswith(DETECT_PREFIX):
            m.targets = [_at_most(DETECT_MAX_S, m.seconds)]
        elif m.key.startswith(HUNG_PREFIX):
            m.targets = [_at_most(HUNG_MAX_S, m.seconds)]
        elif m.key == f"{NET_PREFIX}{SLOW_NET_LATENCY_MS}":
            m.targets = [
                slow_net_target(m.seconds, report.seconds(f"{m.key}_slowest")),
                _at_most(SLOW_NET_MAX_S, m.seconds),
            ]
        elif m.key == MIGRATE:
            m.targets = [_at_most(MIGRATE_MAX_S, m.seconds)]
        elif m.key == MIGRATE_RERUN:
            m.targets = [_at_most(MIGRATE_RERUN_MAX_S, m.seconds)]
        elif m.key == WATCH_ROUND:
            m.targets = [_at_most(WATCH_ROUND_MAX_S, m.seconds)]
        elif m.key in (WATCH_DOWN, WATCH_UP):
            m.targets = [_at_most(2 * WATCH_DETECT_EVERY_S, m.seconds)]
        elif m.key.startswith(ROTATE_FAILED_PREFIX):
            m.targets = [Target("= 0 failed", 0.0, m.seconds, unit="failed")]
        elif m.key == ROTATE_ALL:
            m.targets = [_at_most(ROTATE_ALL_MAX_S, m.seconds)]
        elif m.key == DRIFT:
            m.targets = [_at_most(DRIFT_MAX_S, m.seconds)]
        elif m.key == WATCH_RSS:
            label = f"<= {WATCH_RSS_MAX_MB:g} MB"
            m.targets = [Target(label, WATCH_RSS_MAX_MB, m.seconds, unit="MB")]
        elif m.key == S3_PUT_FULL:
            full_ratio = ratio(m.seconds, report.seconds(S3_PUT_EMPTY))
            m.targets = [_at_most(S3_PUT_MAX_RATIO, full_ratio, "the empty store's PUT")]
