"""The Redis cache (rate limits, cache-aside)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.local.redis_server import RedisServer


@dataclass(frozen=True, kw_only=True)
class LocalRedisArgs:
    """Where the embedded Redis server runs."""

    port: int
    data_dir: str


@dataclass(frozen=True, kw_only=True)
class CacheArgs:
    """Inputs of `Cache`."""

    local: LocalRedisArgs | None = None


class Cache(pulumi.ComponentResource):
    """Owns the Redis server the app caches in and rate-limits with."""

    url: pulumi.Output[str]
    """Redis URL with credentials (secret)."""

    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:Cache", name, None, opts)
        if args.local is None:
            raise pulumi.RunError("cache: only the local server is wired in this program so far")
        server = RedisServer(
            f"{name}-server",
            port=args.local.port,
            data_dir=args.local.data_dir,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = pulumi.Output.secret(server.url)
        self.register_outputs({"url": self.url})
