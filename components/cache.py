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
class UpstashArgs:
    """The Upstash database of a cloud stack: global, primary in the database's region, TLS."""

    database_name: str
    primary_region: str
    hardened: bool = False
    provider: pulumi.ProviderResource | None = None


@dataclass(frozen=True, kw_only=True)
class CacheArgs:
    """Inputs of `Cache` (one of `local` and `upstash`)."""

    local: LocalRedisArgs | None = None
    upstash: UpstashArgs | None = None


class Cache(pulumi.ComponentResource):
    """Owns the Redis the app caches in and rate-limits with (local server or Upstash)."""

    url: pulumi.Output[str]
    """Redis URL with credentials (secret); `rediss://` (TLS) in the cloud."""
    rest_url: pulumi.Output[str] | None = None
    """Upstash REST endpoint (cloud only)."""
    rest_token: pulumi.Output[str] | None = None
    """Upstash REST token (secret, cloud only): REDIS_TOKEN."""

    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:Cache", name, None, opts)
        if (args.local is None) == (args.upstash is None):
            raise pulumi.RunError("cache: give exactly one of local= or upstash=")
        if args.upstash is not None:
            self._upstash(name, args.upstash)
        else:
            assert args.local is not None
            server = RedisServer(
                f"{name}-server",
                port=args.local.port,
                data_dir=args.local.data_dir,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.url = pulumi.Output.secret(server.url)
        self.register_outputs(
            {"url": self.url, "rest_url": self.rest_url, "rest_token": self.rest_token}
        )

    def _upstash(self, name: str, args: UpstashArgs) -> None:
        import upstash_pulumi as upstash

        from components.cloud.providers import stateful

        # Upstash rejects new regional databases: a global one with its primary next to Postgres.
        database = upstash.RedisDatabase(
            f"{name}-database",
            database_name=args.database_name,
            region="global",
            primary_region=args.primary_region,
            tls=True,
            eviction=True,
            opts=stateful(args.hardened, args.provider, parent=self),
        )
        self.url = pulumi.Output.secret(
            pulumi.Output.format(
                "rediss://default:{0}@{1}:{2}",
                database.password,
                database.endpoint,
                database.port,
            )
        )
        self.rest_url = database.endpoint.apply(lambda host: f"https://{host}")
        self.rest_token = pulumi.Output.secret(database.rest_token)
