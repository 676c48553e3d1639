"""Explicit, version-pinned providers for the cloud stacks, and the options of stateful resources.

Every cloud resource gets one of these providers instead of the ambient default provider, so a
stack never silently picks up another plugin version or another account's environment config.
The plugin versions equal the SDK pins in pyproject.toml (a unit test keeps them in step).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pulumiverse_vercel as vercel
import upstash_pulumi as upstash

PLUGIN_VERSIONS: dict[str, str] = {
    "aws": "7.51.1",
    "random": "4.21.4",
    "upstash": "0.5.0",
    "vercel": "5.21.1",
}
# Where a plugin is downloaded from when its SDK's `pulumi-plugin.json` names a server (the
# engine's automatic acquisition reads it there; it is off here, so the installer and the provider
# options say it): pulumiverse_vercel and upstash_pulumi name one, aws and random use Pulumi's.
PLUGIN_SERVERS: dict[str, str] = {
    "upstash": "github://api.github.com/upstash/pulumi-upstash",
    "vercel": "github://api.github.com/pulumiverse",
}
UPSTASH_PLUGIN_URL = PLUGIN_SERVERS["upstash"]


@dataclass(frozen=True, kw_only=True)
class CloudAccounts:
    """Which accounts the providers act in; tokens are secret inputs."""

    region: str
    upstash_email: str
    upstash_api_key: pulumi.Input[str]
    vercel_api_token: pulumi.Input[str]
    vercel_team: str = ""


@dataclass(frozen=True)
class CloudProviders:
    """The provider instances a cloud stack passes to its components."""

    aws: aws.Provider
    random: random.Provider
    upstash: upstash.Provider
    vercel: vercel.Provider

    @classmethod
    def create(cls, accounts: CloudAccounts) -> CloudProviders:
        """Declare the four providers. AWS credentials come from the environment (a profile or
        SSO locally; in CI the environment secrets AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY the
        workflows pass): they are the operator's, not the app's, and never enter the state."""

        def pinned(name: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                version=PLUGIN_VERSIONS[name], plugin_download_url=PLUGIN_SERVERS.get(name)
            )

        return cls(
            aws=aws.Provider(
                "aws",
                region=accounts.region,
                default_tags={"tags": {"app": "mentora", "managed-by": "pulumi"}},
                opts=pinned("aws"),
            ),
            random=random.Provider("random", opts=pinned("random")),
            upstash=upstash.Provider(
                "upstash",
                email=accounts.upstash_email,
                api_key=pulumi.Output.secret(accounts.upstash_api_key),
                opts=pinned("upstash"),
            ),
            vercel=vercel.Provider(
                "vercel",
                api_token=pulumi.Output.secret(accounts.vercel_api_token),
                team=accounts.vercel_team or None,
                opts=pinned("vercel"),
            ),
        )


def stateful(
    hardened: bool, provider: pulumi.ProviderResource | None = None, **extra: object
) -> pulumi.ResourceOptions:
    """Options for a resource that holds data.

    Hardened stacks protect it and retain it on delete. Every stack aliases it to the stack root,
    so wrapping a resource that was created at the root (by hand or an older program) into its
    component adopts it instead of replacing it; physical names are always explicit, so a
    logical rename plus an alias never recreates the data either.
    """
    return pulumi.ResourceOptions(
        provider=provider,
        protect=hardened,
        retain_on_delete=hardened,
        aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)],
        **extra,  # type: ignore[arg-type]
    )
