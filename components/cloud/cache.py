"""`UpstashCache`: the Upstash Redis database of a cloud stack (global, TLS)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import upstash_pulumi as upstash

from components.cloud.app_credential import AppCredential
from components.cloud.providers import stateful
from components.former import formerly


@dataclass(frozen=True, kw_only=True)
class UpstashCacheArgs:
    """The Upstash database: global, primary in the database's region, TLS."""

    database_name: str
    primary_region: str
    hardened: bool = False
    provider: pulumi.ProviderResource | None = None


class UpstashCache(pulumi.ComponentResource):
    """Owns the Upstash database the app caches in and rate-limits with, and the app's login on
    it (`AppCredential`: `default` until `rotate` moves the app to an ACL user)."""

    url: pulumi.Output[str]
    """`rediss://` URL with credentials, for TCP clients (secret)."""
    rest_url: pulumi.Output[str]
    """Upstash REST endpoint (`https://`), for @upstash/redis."""
    rest_token: pulumi.Output[str]
    """Upstash REST token (secret)."""

    def __init__(
        self, name: str, args: UpstashCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "mentora:infra:UpstashCache", name, None, formerly("mentora:infra:Cache", opts)
        )
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
        # The app's login starts as `default` and is what `rotate` made it after that.
        login = AppCredential(
            f"{name}-app-login",
            scope=database.database_id,
            name="default",
            secret=database.password,
            extra=database.rest_token,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = pulumi.Output.secret(
            pulumi.Output.format(
                "rediss://{0}:{1}@{2}:{3}",
                login.name,
                login.secret,
                database.endpoint,
                database.port,
            )
        )
        self.rest_url = database.endpoint.apply(lambda host: f"https://{host}")
        self.rest_token = pulumi.Output.secret(login.extra)
        self.register_outputs(
            {"url": self.url, "rest_url": self.rest_url, "rest_token": self.rest_token}
        )
