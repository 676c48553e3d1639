"""`python -m bench` (or `make bench`): run every measurement, print the table, write the JSON.

Exit codes: 0 the benchmark ran (targets may be missed: it is a report), 1 a step of the
benchmark broke, 2 the environment is not ready (no `pulumi` on PATH), 130 interrupted.
Cleanup (throwaway stacks destroyed, floor servers stopped, temp dirs removed) always runs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.cleanup import Cleanup, interrupts_raise
from bench.model import Report, add_derived, attach_targets
from bench.proc import SCRUB
from bench.project import make_base
from bench.render import render_table, write_json
from bench.run import NEED_STACK, STEPS, Run, say
from devtools.project import REPO


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--json", type=Path, default=REPO / "reports" / "bench.json", help="JSON report path"
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=3,
        help="rounds of each repeatable measurement; the median is reported (default 3)",
    )
    parser.add_argument(
        "--only",
        default=",".join(STEPS),
        help=f"comma-separated subset of {','.join(STEPS)} (network, detection need stack)",
    )
    args = parser.parse_args(argv)
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    if not args.only <= set(STEPS) or args.samples < 1:
        parser.error(f"--only takes names among {','.join(STEPS)}; --samples must be >= 1")
    if args.only & set(NEED_STACK):
        args.only.add("stack")
    return args


def _version(args: list[str]) -> str:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=30, cwd=REPO).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.strip() or "unknown"


def meta(args: argparse.Namespace) -> dict[str, object]:
    return {
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "pulumi": _version(["pulumi", "version"]),
        "commit": _version(["git", "rev-parse", "--short", "HEAD"]),
        "samples": args.samples,
        "steps": sorted(args.only),
    }


def finish(report: Report, args: argparse.Namespace, started: float) -> None:
    """Verdicts, derived rows, secrets scrubbed; print the table and write the JSON."""
    report.complete(key for name in STEPS if name in args.only for key in STEPS[name])
    add_derived(report)
    attach_targets(report)
    for m in report.measurements:
        m.note = SCRUB(m.note)
        m.error = SCRUB(m.error) if m.error else None
    report.errors = [{k: SCRUB(v) for k, v in e.items()} for e in report.errors]
    report.meta["wall_seconds"] = round(time.monotonic() - started, 1)
    report.meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(render_table(report))
    write_json(args.json, report)
    print(f"\nJSON: {args.json}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if shutil.which("pulumi") is None:
        print("bench: no `pulumi` on PATH: run `make bench` (it bootstraps and sources env)")
        return 2
    interrupts_raise()
    started, report, cleanup = time.monotonic(), Report(meta=meta(args)), Cleanup()
    try:
        base = make_base("mentora-bench-")
        cleanup.push("remove the temp folder", lambda: shutil.rmtree(base, ignore_errors=True))
        Run(report, cleanup, base, args.only, args.samples).all()
    except KeyboardInterrupt:
        report.interrupted = True
        say("interrupted: cleaning up")
    finally:
        for failure in cleanup.run():
            report.fail("cleanup", failure)
    finish(report, args, started)
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
