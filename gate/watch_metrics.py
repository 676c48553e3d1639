"""The Prometheus side of `mentora-infra watch` (gate/watch.py): one stack's metrics in a
registry of their own (gate/watch.py serves them and writes the textfile)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from smoke.report import CheckResult


class Metrics:
    """The Prometheus metrics of one stack's watch, in a registry of their own."""

    def __init__(self, stack: str) -> None:
        self.registry = CollectorRegistry()
        labels = ("stack", "service", "check")
        self.stack = stack
        self.up = Gauge("mentora_watch_check_up", "1 if the check passed in the last round, else 0",
                        labels, registry=self.registry)  # fmt: skip
        self.latency = Gauge("mentora_watch_check_latency_seconds",
                             "the check's network latency (else its wall time) in the last round",
                             labels, registry=self.registry)  # fmt: skip
        self.last_success = Gauge("mentora_watch_check_last_success_timestamp_seconds",
                                  "Unix time of the check's last pass", labels,
                                  registry=self.registry)  # fmt: skip
        self.healthy = Gauge("mentora_watch_stack_up", "1 if every check passed in the last round",
                             ("stack",), registry=self.registry)  # fmt: skip
        self.rounds = Counter("mentora_watch_rounds", "rounds run", ("stack",),
                              registry=self.registry)  # fmt: skip
        self.round_s = Gauge("mentora_watch_round_duration_seconds", "the last round's wall time",
                             ("stack",), registry=self.registry)  # fmt: skip

    def record(self, result: CheckResult, up: bool, now: float) -> None:
        labels = (self.stack, result.service, result.name)
        self.up.labels(*labels).set(1 if up else 0)
        self.latency.labels(*labels).set(result.slowest_ms / 1000)
        if up:
            self.last_success.labels(*labels).set(now)
