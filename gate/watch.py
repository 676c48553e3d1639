"""`mentora-infra watch`: the smoke suite's read-only checks, run on a schedule against a live
stack through the smoke engine (in this process: no pytest per round), with per-check state.

A `Watcher` owns one stack's watch: the state of each check (up or down, since when, why), the
Prometheus metrics of its checks (served on a loopback port and/or written atomically to a
textfile for node_exporter's textfile collector) and the transition lines it prints
(`up -> down`, `down -> up`), every one passed through the run's `Redactor`. It selects only
checks not marked `writes` (as `smoke --read-only` does), so it is safe against prod.

>>> watcher = Watcher("local", outputs, every_s=60.0)  # doctest: +SKIP
>>> watcher.round().checks[0].outcome  # doctest: +SKIP
'passed'
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server, write_to_textfile

from gate.watch_metrics import Metrics
from gate.watch_process import LOST, in_child, lean_malloc, preload, redact_logs, trim_malloc
from smoke import engine
from smoke.outputs import OutputsError, StackOutputs, load_from_file, load_from_stack
from smoke.redact import Redactor
from smoke.report import CheckResult

# The smoke suite's own timeouts (smoke/plugin.py): a local server that takes 2 s is hung; a
# cloud one gets 3 s for the internet's round trips.
LOCAL_TIMEOUT_S, CLOUD_TIMEOUT_S = 2.0, 3.0
CHECK_DEADLINE_S = 20.0
MIN_EVERY_S = 1.0
ROUND_MIN_DEADLINE_S = 10.0  # a round may take longer than a short --every to name a hang
STOP_GRACE_S = 1.0  # a stopped round's checks get this long to end and clean up
ENVIRON_MIN_SECRET_LEN = 8
CAUSE_MAX = 300
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class WatchUsage(ValueError):
    """Bad input to `watch` (an option's value, a port in use): named with the fix, exit 2."""


def parse_every(text: str) -> float:
    """Seconds of an `--every` value: `60s`, `2`, `500ms`, `5m`, `1h`; at least 1 s.

    >>> parse_every("60s"), parse_every("1.5m")
    (60.0, 90.0)
    """
    found = _DURATION.fullmatch(text)
    seconds = float(found.group(1)) * _UNIT_S[found.group(2) or "s"] if found else 0.0
    if seconds < MIN_EVERY_S:
        raise WatchUsage(
            f"watch: --every {text!r} is not a duration of at least {MIN_EVERY_S:g} s; "
            "pass e.g. --every 60s, --every 5m or --every 2 (seconds)"
        )
    return seconds


def redactor_for(outputs: StackOutputs, environ: Mapping[str, str] = os.environ) -> Redactor:
    """Every secret of the stack's outputs and of the caller's environment, as smoke masks them."""
    redactor = Redactor()
    redactor.add_env(environ, min_len=ENVIRON_MIN_SECRET_LEN)
    redactor.add_outputs(outputs)
    return redactor


@dataclass
class CheckState:
    """What the watch knows of one check: up or not, since when (Unix time), and why."""

    up: bool
    since: float
    cause: str = ""


@dataclass
class Watcher:
    """One stack's watch: runs rounds, keeps each check's state, prints transitions, keeps the
    metrics (and the textfile) current."""

    stack: str
    outputs: StackOutputs
    every_s: float
    redactor: Redactor = field(default_factory=Redactor)
    textfile: Path | None = None
    out: Callable[[str], None] = print
    clock: Callable[[], float] = time.time
    states: dict[str, CheckState] = field(default_factory=dict)
    runner: Callable[[engine.Settings], engine.Results] = engine.run_stack
    """How a round's checks run: in this process, or (`main`) in a forked child (`in_child`)."""
    reload: Callable[[], StackOutputs] | None = None
    """How to read the stack's outputs again (`main`: as it read them first). A round with a
    failed check reads them again; when they changed (a `rotate`, an `up` that moved a server)
    the round runs again with them before anything is recorded: the watch follows the stack
    instead of reporting revoked credentials as outages for as long as it runs."""
    metrics: Metrics = field(init=False)

    def __post_init__(self) -> None:
        self.metrics = Metrics(self.stack)

    @property
    def healthy(self) -> bool:
        return bool(self.states) and all(s.up for s in self.states.values())

    def settings(self) -> engine.Settings:
        timeout = LOCAL_TIMEOUT_S if self.outputs.is_local else CLOUD_TIMEOUT_S
        return engine.Settings(
            outputs=self.outputs,
            timeout_s=timeout,
            # As smoke's: the RLS checks' rolled-back fixture rows put it in codes that must
            # match `^[a-z0-9_]{1,64}$` (a `watch-` prefix failed them on a healthy stack).
            run_id=uuid.uuid4().hex[:12],
            check_deadline_s=max(CHECK_DEADLINE_S, 5 * timeout),
            setup_deadline_s=2 * timeout + 1.0,
            teardown_deadline_s=2 * timeout + 1.0,
            read_only=True,
            deadline=time.monotonic() + max(self.every_s, ROUND_MIN_DEADLINE_S),
            redact=self.redactor.redact,
            log_level=logging.WARNING,
            stop_grace_s=STOP_GRACE_S,
        )

    def round(self) -> engine.Results:
        """Run the read-only checks once and record them; a signal (KeyboardInterrupt) during
        the round ends it within `STOP_GRACE_S` and is raised again, nothing recorded."""
        started = time.monotonic()
        results = self.runner(self.settings())
        if any(c.failed for c in results.checks) and not results.interrupted and self.follow():
            results = self.runner(self.settings())
        if results.ended.startswith(LOST):  # no results: the states stay, the line says why
            self.out(self.redactor.redact(f"watch {self.stack}: a round gave no results: "
                                          f"{results.ended}"))  # fmt: skip
        elif results.interrupted and "deadline" not in results.ended:
            raise KeyboardInterrupt(results.ended)
        self.metrics.round_s.labels(self.stack).set(time.monotonic() - started)
        self.record(results.checks)
        return results

    def follow(self) -> bool:
        """Read the outputs again; True when they changed (then they are the watch's, their
        secrets masked too). A failed read keeps the current ones: the round stands."""
        if self.reload is None:
            return False
        try:
            fresh = self.reload()
        except OutputsError:
            return False
        if fresh == self.outputs:
            return False
        self.outputs = fresh
        self.redactor.add_outputs(fresh)
        self.out(f"watch {self.stack}: the stack's outputs changed (a rotation or a deploy): "
                 "checking with the new ones")  # fmt: skip
        return True

    def record(self, checks: list[CheckResult]) -> list[str]:
        """Update states and metrics from one round's results; print and return the
        transition lines (a check's first state is a transition from `new`)."""
        now = self.clock()
        lines: list[str] = []
        for result in checks:
            if result.outcome == "skipped":
                continue  # not applicable to this stack (e.g. a cloud-only check)
            up = not result.failed
            key = f"{result.service}::{result.name}"
            cause = "" if up else self.cause(result)
            before = self.states.get(key)
            self.metrics.record(result, up, now)
            if before is not None and before.up == up:
                before.cause = cause
                continue
            self.states[key] = CheckState(up, now, cause)
            was = "new" if before is None else ("up" if before.up else "down")
            lines.append(self.transition(key, was, up, cause, now))
        self.metrics.healthy.labels(self.stack).set(1 if self.healthy else 0)
        self.metrics.rounds.labels(self.stack).inc()
        if self.textfile is not None:
            try:
                write_to_textfile(str(self.textfile), self.metrics.registry)
            except OSError as exc:  # a full disk or a removed folder must not stop the watch
                why = exc.strerror or exc
                lines.append(f"watch {self.stack}: cannot write --textfile {self.textfile} "
                             f"({why}); tried again after the next round")  # fmt: skip
        for line in lines:
            self.out(line)
        return lines

    def cause(self, result: CheckResult) -> str:
        """The first line of why a check failed, masked."""
        first = (result.message.strip().splitlines() or [""])[0]
        kind = result.error_class or result.outcome
        text = self.redactor.redact(f"{kind}: {first}" if first else kind)
        return text if len(text) <= CAUSE_MAX else text[: CAUSE_MAX - 3] + "..."

    def transition(self, key: str, was: str, up: bool, cause: str, now: float) -> str:
        at = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = f"{at} watch {self.stack}: {key} {was} -> {'up' if up else 'down'}"
        return self.redactor.redact(f"{line} ({cause})" if cause else line)


def serve(registry: CollectorRegistry, port: int) -> Any:
    """Serve the metrics on 127.0.0.1:`port` (a daemon thread); the server, to shut down."""
    try:
        server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    except OSError as exc:
        raise WatchUsage(
            f"watch: --metrics-port {port} cannot be served on 127.0.0.1 ({exc.strerror or exc}); "
            "pick a free port, e.g. --metrics-port 9464"
        ) from None
    return server


def loop(watcher: Watcher, once: bool, sleep: Callable[[float], None] = time.sleep) -> int:
    """Rounds every `every_s` until a signal (KeyboardInterrupt, raised to the caller); with
    `once`, one round: 0 when every check is up, else 1."""
    while True:
        started = time.monotonic()
        watcher.round()
        trim_malloc()
        if once:
            return 0 if watcher.healthy else 1
        sleep(max(0.0, watcher.every_s - (time.monotonic() - started)))


def textfile_target(path: Path) -> Path:
    """`--textfile`'s path, its folder checked before any round (bad input: exit 2)."""
    if not path.parent.is_dir() or path.is_dir():
        raise WatchUsage(
            f"watch: --textfile {path}: "
            f"{'is a folder' if path.is_dir() else 'its folder does not exist'}; pass a file "
            "path in an existing folder, e.g. --textfile /var/lib/node_exporter/mentora.prom"
        )
    return path


__all__ = ["CheckState", "Metrics", "WatchUsage", "Watcher", "loop", "parse_every"]


def main(
    stack: str,
    every: str,
    once: bool,
    metrics_port: int | None,
    textfile: Path | None,
    outputs_file: Path | None,
) -> int:
    """`mentora-infra watch`: every input checked before the first round (WatchUsage)."""
    every_s = parse_every(every)
    if metrics_port is not None and not 1 <= metrics_port <= 65535:
        raise WatchUsage(
            f"watch: --metrics-port {metrics_port} is not a port; pass 1-65535, e.g. 9464"
        )
    target = textfile_target(textfile) if textfile is not None else None
    environ = Redactor()
    environ.add_env(os.environ, min_len=ENVIRON_MIN_SECRET_LEN)
    try:
        outputs = (
            load_from_file(outputs_file)
            if outputs_file is not None
            else load_from_stack(stack, environ.redact)
        )
    except OutputsError as exc:
        raise WatchUsage(f"watch: {environ.redact(str(exc))}") from None
    redactor = redactor_for(outputs)
    watcher = Watcher(stack, outputs, every_s, redactor, target, lambda s: print(s, flush=True))
    watcher.runner = functools.partial(in_child, engine.run_stack)
    watcher.reload = (
        functools.partial(load_from_file, outputs_file)
        if outputs_file is not None
        else functools.partial(load_from_stack, stack, redactor.redact, ROUND_MIN_DEADLINE_S)
    )  # a backend that does not answer delays the next round by 10 s at most
    server = serve(watcher.metrics.registry, metrics_port) if metrics_port is not None else None
    undo = redact_logs(redactor)
    lean_malloc()
    preload()
    where = f", metrics on 127.0.0.1:{metrics_port}" if server is not None else ""
    print(f"watch {stack}: read-only checks every {every_s:g} s{where}", flush=True)
    try:
        return loop(watcher, once)
    finally:
        undo()
        if server is not None:
            server.shutdown()
            server.server_close()
