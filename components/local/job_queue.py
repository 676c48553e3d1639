"""`LocalJobQueue`: the Inngest Dev Server that runs the app's job functions locally."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from components.local.inngest_server import InngestDevServer, InngestSettings
from components.local.server_provider import resolved


@dataclass(frozen=True, kw_only=True)
class LocalJobQueueArgs:
    """Where the Dev Server runs and the app endpoint it syncs the functions from."""

    port: int
    data_dir: str
    app_url: str
    """The app's Inngest endpoint, e.g. http://127.0.0.1:3100/api/inngest."""
    hints: Mapping[str, str] = field(default_factory=dict)
    """How the user changes a setting (`port`, `data_dir`), shown in the server's errors."""


class LocalJobQueue(pulumi.ComponentResource):
    """Owns the local Inngest Dev Server (events, crons and steps of the app's functions)."""

    url: pulumi.Output[str]
    """The Dev Server's URL: the SDKs' INNGEST_BASE_URL (with INNGEST_DEV=1)."""

    def __init__(
        self, name: str, args: LocalJobQueueArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:LocalJobQueue", name, None, opts)
        settings = InngestSettings(
            port=args.port,
            data_dir=Path(args.data_dir),
            hints=args.hints,
            app_url=resolved(args.app_url),
        )
        server = InngestDevServer(f"{name}-server", settings, pulumi.ResourceOptions(parent=self))
        self.url = server.url
        self.register_outputs({"url": self.url})
