"""Pulumi summary parsing, bootstrap work detection, argument checks, secret scrubbing."""

from __future__ import annotations

import pytest

from bench.__main__ import parse
from bench.bootstrap import did_work
from bench.proc import Scrubber
from bench.stack import changes


def test_changes_reads_pulumi_resource_summaries() -> None:
    cold = "Resources:\n    + 12 created\n\nDuration: 5s\n"
    healed = "Resources:\n    ~ 1 updated\n    +-1 replaced\n    10 unchanged\n"
    assert changes(cold) == ["12 created"]
    assert changes(healed) == ["1 updated", "1 replaced"]
    assert changes("Resources:\n    12 unchanged\n\nDuration: 2s\n") == []
    # A resource named like a count in a progress line is not a summary line.
    assert changes(" +  pulumi-python:dynamic:Resource app-process created (0.71s)") == []


@pytest.mark.parametrize(
    ("output", "worked"),
    [
        ("bootstrap: python deps: up to date (.venv)\nbootstrap: ready in 1s", False),
        ("bootstrap: python deps: installing into .venv", True),
        ("pulumi: building the CLI v3.274.1 from the Go module proxy", True),
        ("bootstrap: pulumi: creating the local stack in file://x", True),
        ("bootstrap: secrets: generating a per-machine passphrase", True),
    ],
)
def test_did_work(output: str, worked: bool) -> None:
    assert did_work(output) is worked


def test_parse_defaults_and_detection_implies_the_stack() -> None:
    args = parse([])
    assert args.samples == 3 and args.json.name == "bench.json"
    assert args.only == {"bootstrap", "floor", "providers", "stack", "detection"}
    assert parse(["--only", "detection"]).only == {"detection", "stack"}
    assert parse(["--only", "floor, bootstrap"]).only == {"floor", "bootstrap"}


@pytest.mark.parametrize("argv", [["--only", "floor,nope"], ["--samples", "0"]])
def test_parse_refuses_bad_arguments(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(argv)
    assert exc.value.code == 2


def test_scrubber_masks_longest_values_first_and_ignores_empty() -> None:
    scrub = Scrubber()
    scrub.add("abc123", "abc123-longer-secret", "")
    assert scrub("x abc123-longer-secret y abc123 z") == "x *** y *** z"
    assert scrub("nothing here") == "nothing here"


@pytest.mark.parametrize(
    "module",
    ["bench.model", "bench.render", "bench.smoke_report", "bench.stack", "bench.bootstrap"],
)
def test_docstring_examples_hold(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
