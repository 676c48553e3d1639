"""Settings of the cloud stacks (dev, prod): accounts, sizes, domains and the secret keys they need.

Plain settings are validated by `CloudSettings` (pydantic) like every other key. Secrets are only
checked for presence, for being stored encrypted and for their shape; their values never appear in
an error message.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from stacks.model import Model

# Regions where Supabase, Upstash (global primary) and S3 all exist: the cache's primary region is
# the database's region, so a stack's one `region` must be valid for all three.
CLOUD_REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-central-1",
    "eu-west-1",
    "sa-east-1",
    "ap-southeast-1",
    "ap-southeast-2",
)
SUPABASE_INSTANCE_SIZES = Literal[
    "nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge"
]
PITR_DAYS = (0, 7, 14, 28)
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

# Externally issued keys the app needs, by config key -> the guide's Phase 8 env name.
ISSUED_SECRETS: dict[str, str] = {
    "inngestEventKey": "INNGEST_EVENT_KEY",
    "inngestSigningKey": "INNGEST_SIGNING_KEY",
    "sentryDsn": "SENTRY_DSN",
    "sentryAuthToken": "SENTRY_AUTH_TOKEN",
    "anthropicApiKey": "ANTHROPIC_API_KEY",
    "openaiApiKey": "OPENAI_API_KEY",
    "whopApiKey": "WHOP_API_KEY",
    "whopClientId": "WHOP_CLIENT_ID",
    "whopClientSecret": "WHOP_CLIENT_SECRET",
    "whopWebhookSecret": "WHOP_WEBHOOK_SECRET",
}
# Tokens the program itself uses to talk to the providers' APIs, with where to get one.
PROVIDER_SECRETS: dict[str, str] = {
    "supabaseAccessToken": "a Supabase access token (supabase.com/dashboard/account/tokens)",
    "upstashApiKey": "an Upstash management API key (console.upstash.com/account/api)",
    "vercelApiToken": "a Vercel access token (vercel.com/account/tokens)",
}
CLOUD_SECRETS: tuple[str, ...] = (*PROVIDER_SECRETS, *ISSUED_SECRETS)
# Shape checks for secrets whose format is public knowledge (values are never echoed).
_SECRET_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "sentryDsn": (
        re.compile(r"^https://[0-9a-f]+@[A-Za-z0-9.-]+/\d+$"),
        "a Sentry DSN URL like https://<key>@o0.ingest.sentry.io/<project id>",
    ),
    "anthropicApiKey": (re.compile(r"^sk-ant-\S+$"), "an Anthropic key starting with sk-ant-"),
    "openaiApiKey": (re.compile(r"^sk-\S+$"), "an OpenAI key starting with sk-"),
}


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class CloudSettings(Model):
    """The cloud accounts and choices of one stack (secrets are read separately)."""

    supabase_organization: str = Field(
        alias="supabaseOrganization", pattern=r"^[A-Za-z0-9_-]{1,64}$"
    )
    supabase_instance_size: SUPABASE_INSTANCE_SIZES = Field("micro", alias="supabaseInstanceSize")
    supabase_allowed_cidrs: list[str] = Field([], alias="supabaseAllowedCidrs")
    supabase_pitr_days: int = Field(0, alias="supabasePitrDays")
    upstash_email: str = Field(alias="upstashEmail", pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    vercel_team: str = Field("", alias="vercelTeam", pattern=r"^[A-Za-z0-9_-]{0,64}$")
    vercel_project: str = Field(alias="vercelProject", pattern=r"^[a-z0-9._-]{1,100}$")
    git_repository: str = Field(alias="gitRepository", pattern=r"^[\w.-]+/[\w.-]+$")
    git_production_branch: str = Field("main", alias="gitProductionBranch", min_length=1)
    domains: list[str] = Field([], alias="domains")
    app_url: str = Field(alias="appUrl")
    hardened: bool = Field(False, alias="hardened")

    @field_validator("supabase_allowed_cidrs", "domains", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _csv(value)

    @field_validator("supabase_allowed_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        for cidr in cidrs:
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise ValueError(f"{cidr!r} is not a network ({exc})") from None
        return cidrs

    @field_validator("supabase_pitr_days")
    @classmethod
    def _pitr(cls, days: int) -> int:
        if days not in PITR_DAYS:
            raise ValueError(f"must be one of {', '.join(map(str, PITR_DAYS))}")
        return days

    @field_validator("domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        bad = [d for d in domains if not _HOSTNAME.match(d)]
        if bad:
            raise ValueError(f"{bad} are not DNS host names")
        return domains

    @field_validator("app_url")
    @classmethod
    def _https_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError("must be an https:// origin without a path, e.g. https://mentora.app")
        return url.rstrip("/")

    @property
    def cors_origins(self) -> list[str]:
        """Origins browsers upload videos from: the app URL and every domain."""
        origins = [self.app_url, *(f"https://{d}" for d in self.domains)]
        return list(dict.fromkeys(origins))


def secret_problems(
    stack: str, values: Mapping[str, str | None], encrypted: Mapping[str, bool]
) -> list[str]:
    """What is wrong with the cloud secrets; each line names the key and the command to fix it."""
    problems: list[str] = []
    for key in CLOUD_SECRETS:
        what = PROVIDER_SECRETS.get(key) or f"the value of {ISSUED_SECRETS[key]}"
        fix = f"pulumi config set --secret mentora:{key} <value> -s {stack}"
        value = values.get(key)
        if not value:
            problems.append(f"mentora:{key}: is required for cloud stacks ({what}); run: {fix}")
        elif not encrypted.get(key, False):
            problems.append(
                f"mentora:{key}: is stored in plain text in Pulumi.{stack}.yaml; remove it there "
                f"and store it encrypted: {fix}"
            )
        elif key in _SECRET_SHAPES and not _SECRET_SHAPES[key][0].match(value):
            problems.append(
                f"mentora:{key}: does not look like {_SECRET_SHAPES[key][1]} "
                f"(value not shown); run: {fix}"
            )
    return problems
