"""`LocalCache`: the embedded Redis server the app caches in and rate-limits with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from components.former import formerly
from components.local.redis_server import RedisServer
from components.local.server_provider import ServerSettings


@dataclass(frozen=True, kw_only=True)
class LocalCacheArgs:
    """Where the embedded Redis server runs."""

    port: int
    data_dir: str
    hints: Mapping[str, str] = field(default_factory=dict)
    """How the user changes a setting (`port`, `data_dir`), shown in the server's errors."""


class LocalCache(pulumi.ComponentResource):
    """Owns the local Redis server (password required, loopback only)."""

    url: pulumi.Output[str]
    """Redis URL with credentials (secret)."""

    def __init__(
        self, name: str, args: LocalCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "mentora:infra:LocalCache", name, None, formerly("mentora:infra:Cache", opts)
        )
        settings = ServerSettings(port=args.port, data_dir=Path(args.data_dir), hints=args.hints)
        server = RedisServer(f"{name}-server", settings, pulumi.ResourceOptions(parent=self))
        self.url = pulumi.Output.secret(server.url)
        self.register_outputs({"url": self.url})
