"""`LocalWatch`: `mentora-infra watch` of the local stack, run as one of its servers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from components.local.server_provider import resolved
from components.local.watch_server import WatchServer, WatchSettings


@dataclass(frozen=True, kw_only=True)
class LocalWatchArgs:
    """What the watch watches, how often, where its metrics and log live."""

    port: int
    """Its Prometheus metrics port on 127.0.0.1."""
    data_dir: str
    stack: str
    every_s: int
    repo: str
    """The checkout whose `mentora-infra watch` runs."""
    outputs: pulumi.Input[dict[str, Any]]
    """The stack's outputs (secret): the watch reads them from a 0600 file in its data dir."""
    hints: Mapping[str, str] = field(default_factory=dict)


class LocalWatch(pulumi.ComponentResource):
    """Owns the local watch process: its transition log and its metrics endpoint."""

    log_file: pulumi.Output[str]
    """Where the watch writes its transition lines (`... cache::test_ping up -> down (...)`)."""
    metrics_url: pulumi.Output[str]
    """Its Prometheus metrics (`mentora_watch_check_up` per check)."""

    def __init__(
        self, name: str, args: LocalWatchArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:LocalWatch", name, None, opts)
        settings = WatchSettings(
            port=args.port,
            data_dir=Path(args.data_dir),
            hints=args.hints,
            stack=args.stack,
            every_s=args.every_s,
            repo=args.repo,
            outputs=resolved(args.outputs),
        )
        server = WatchServer(f"{name}-server", settings, pulumi.ResourceOptions(parent=self))
        self.log_file = server.log_file
        self.metrics_url = server.metrics_url
        self.register_outputs({"log_file": self.log_file, "metrics_url": self.metrics_url})
