"""The pull request comment (and job summary) of a review stack: app URL, the diff's summary,
the smoke table. `.github/workflows/review.yml` upserts it by its first line, the marker.

    python -m review.comment pr-42 --log review-up.log --report reports/pr-42.json \\
        --app-url https://mentora-dev-abc.vercel.app > review-comment.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

MARKER = "<!-- mentora-review:{stack} -->"
LOG_TAIL = 3000
_SERVICE_COLUMNS = ("passed", "failed", "skipped", "slowest_ms")


def marker(stack: str) -> str:
    """The hidden first line the workflow finds its comment by.

    >>> marker("pr-42")
    '<!-- mentora-review:pr-42 -->'
    """
    return MARKER.format(stack=stack)


def diff_summary(log: str) -> list[str]:
    """The `Resources:` block `pulumi up` prints last (`+ 3 created`, `~ 1 updated`, ...)."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "Resources:"]
    if not starts:
        return []
    block = []
    for line in lines[starts[-1] + 1 :]:
        if not line.strip():
            break
        block.append(line.strip())
    return block


def smoke_table(report: dict[str, Any] | None) -> list[str]:
    """Markdown rows per service from smoke's JSON report (smoke/report.py `document`)."""
    if not report or not isinstance(report.get("services"), dict):
        return ["_no smoke report (the deploy failed before smoke, or smoke did not run)_"]
    rows = ["| service | passed | failed | skipped | slowest ms |", "|---|---:|---:|---:|---:|"]
    for name, row in report["services"].items():
        cells = [
            str(round(row.get(c, 0), 1) if c == "slowest_ms" else row.get(c, 0))
            for c in _SERVICE_COLUMNS
        ]
        rows.append(f"| {name} | {' | '.join(cells)} |")
    verdict = "passed" if report.get("passed") else f"FAILED ({report.get('ended', 'finished')})"
    return [*rows, "", f"**smoke {verdict}**"]


def body(stack: str, *, head: str, app_url: str, log: str, report: dict[str, Any] | None) -> str:
    """The whole comment: marker first (the workflow's find-by-marker relies on it)."""
    summary = diff_summary(log)
    parts = [
        marker(stack),
        f"### Review stack `{stack}` ({head[:7] or 'unknown head'})",
        f"**App:** {app_url}" if app_url else "**App:** _not deployed_",
        "",
        "**Changes** (`pulumi up`):",
        "```",
        *(summary or ["(no summary: see the job log)"]),
        "```",
        "",
        "**Smoke:**",
        "",
        *smoke_table(report),
    ]
    if not summary or not report or not report.get("passed"):
        parts += [
            "",
            "<details><summary>log tail</summary>",
            "",
            "```",
            log[-LOG_TAIL:],
            "```",
            "</details>",
        ]
    return "\n".join(parts) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m review.comment")
    parser.add_argument("stack")
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--app-url", default="")
    parser.add_argument("--head", default="")
    args = parser.parse_args(argv)
    log = args.log.read_text(errors="replace") if args.log.exists() else ""
    try:
        report = json.loads(args.report.read_text()) if args.report.exists() else None
    except ValueError:
        report = None
    sys.stdout.write(body(args.stack, head=args.head, app_url=args.app_url, log=log, report=report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
