"""Smoke suite entry: its command-line options; the hooks and fixtures live in smoke/plugin.py.

pytest smoke --stack local                 # outputs from `pulumi stack output` (CLI on PATH)
pytest smoke --outputs-file outputs.json   # outputs saved with `... --json --show-secrets`
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("smoke.plugin",)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smoke", "mentora smoke suite")
    group.addoption(
        "--stack",
        help="Pulumi stack whose outputs to check (runs `pulumi stack output`; the caller sets "
        "PULUMI_BACKEND_URL and the passphrase: `source scripts/env.sh`)",
    )
    group.addoption(
        "--outputs-file",
        type=Path,
        help="JSON of `pulumi stack output --json --show-secrets` to check instead of a stack",
    )
    group.addoption(
        "--check-timeout",
        type=float,
        default=None,
        help="seconds allowed to each network call (default: 2 on the local stack, whose "
        "servers answer in milliseconds; 3 on cloud stacks, across the internet)",
    )
    group.addoption("--json-report", type=Path, help="write every check's record as JSON here")
    group.addoption(
        "--serial",
        action="store_true",
        help="run the services one after another (default: each service's checks in a thread "
        "of their own, services at the same time; reported in the same order either way)",
    )
    group.addoption(
        "--read-only", action="store_true", help="run only checks that write nothing (prod-safe)"
    )
