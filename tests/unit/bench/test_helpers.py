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
    assert args.only == {
        "bootstrap", "floor", "providers", "s3", "stack", "network", "detection", "watch",
        "drift",
        "rotation",
    }  # fmt: skip
    assert parse(["--only", "detection"]).only == {"detection", "stack"}
    assert parse(["--only", "rotation"]).only == {"rotation", "stack"}
    assert parse(["--only", "network"]).only == {"network", "stack"}
    assert parse(["--only", "watch"]).only == {"watch", "stack"}
    assert parse(["--only", "drift"]).only == {"drift", "stack"}
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


PURE_MODULES = (
    "model",
    "render",
    "smoke_report",
    "stack",
    "bootstrap",
    "timeline",
    "memory",
    "network",
)


@pytest.mark.parametrize("module", [f"bench.{name}" for name in PURE_MODULES])
def test_docstring_examples_hold(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_phases_cut_the_cold_up_at_first_server_and_app() -> None:
    from bench.timeline import phases

    cut = phases({"postgres": 2.0, "redis": 1.25, "storage": 2.5, "app": 4.0}, 6.5)
    assert cut == {
        "before the first server listens": 1.25,
        "first server -> app listens": 2.75,
        "app listens -> up exits": 2.5,
    }
    assert phases({"redis": 1.0}, 3.0) == {}  # the app never listened: no cut
    assert phases({}, 3.0) == {}


def test_port_watcher_sees_a_port_open_while_it_watches() -> None:
    import socket
    import threading
    import time

    from bench.timeline import PortWatcher

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        never = closed.getsockname()[1]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    threading.Timer(0.3, server.listen).start()
    try:
        with PortWatcher({"late": port, "never": never}) as watcher:
            time.sleep(0.8)
    finally:
        server.close()
    assert 0.25 <= watcher.first_open["late"] < 0.8
    assert "never" not in watcher.first_open
