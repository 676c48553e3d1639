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

from pydantic import field_validator

from stacks.model import Model
from stacks.settings import setting

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

# Keys issued by other vendors that the app needs: config key -> the app's env name.
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
# Secrets only smoke reads (exported in `smoke_env`, never given to the app): config key -> name.
SMOKE_SECRETS: dict[str, str] = {"sentryReadToken": "SENTRY_READ_TOKEN"}
_SMOKE_SECRET_WHAT = {
    "sentryReadToken": "a Sentry user auth token or internal-integration token with scope "
    "project:read, for smoke to read its test event (org tokens only hold org:ci)",
}
# Tokens the program itself uses to talk to the providers' APIs, with where to get one.
PROVIDER_SECRETS: dict[str, str] = {
    "supabaseAccessToken": "a Supabase access token (supabase.com/dashboard/account/tokens)",
    "upstashApiKey": "an Upstash management API key (console.upstash.com/account/api)",
    "vercelApiToken": "a Vercel access token (vercel.com/account/tokens)",
}
CLOUD_SECRETS: tuple[str, ...] = (*PROVIDER_SECRETS, *ISSUED_SECRETS, *SMOKE_SECRETS)
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

    supabase_organization: str = setting(
        key="supabaseOrganization",
        hint="your Supabase organization slug (dashboard URL /org/<slug>)",
        description="Cloud, required: Supabase organization slug the project is created in.",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
    )
    supabase_instance_size: SUPABASE_INSTANCE_SIZES = setting(
        "micro",
        key="supabaseInstanceSize",
        hint="nano, micro, small, medium, large, xlarge, 2xlarge, ...",
        description="Cloud: Supabase compute size (nano, micro, small, medium, large, xlarge, "
        "...).",
    )
    supabase_allowed_cidrs: list[str] = setting(
        [],
        key="supabaseAllowedCidrs",
        hint="comma-separated networks like 203.0.113.0/24 (empty = anywhere)",
        description="Cloud: comma-separated networks allowed to reach Postgres (empty = anywhere).",
    )
    supabase_pitr_days: int = setting(
        0,
        key="supabasePitrDays",
        hint="0 (off), 7, 14 or 28",
        description="Cloud: point-in-time recovery retention in days (0 off, 7, 14, 28; paid "
        "plans).",
    )
    upstash_email: str = setting(
        key="upstashEmail",
        hint="the e-mail of your Upstash account",
        description="Cloud, required: e-mail of the Upstash account (with the secret "
        "mentora:upstashApiKey).",
        pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",
    )
    vercel_team: str = setting(
        "",
        key="vercelTeam",
        hint="your Vercel team slug or id (empty for a personal account)",
        description="Cloud: Vercel team slug or id (empty for a personal account).",
        pattern=r"^[A-Za-z0-9_-]{0,64}$",
    )
    vercel_project: str = setting(
        key="vercelProject",
        hint="a Vercel project name such as mentora",
        description="Cloud, required: name of the Vercel project this stack owns.",
        pattern=r"^[a-z0-9._-]{1,100}$",
    )
    git_repository: str = setting(
        key="gitRepository",
        hint="the app's repository as owner/name",
        description="Cloud, required: the app's GitHub repository (owner/name) the Vercel "
        "project deploys.",
        pattern=r"^[\w.-]+/[\w.-]+$",
    )
    git_production_branch: str = setting(
        "main",
        key="gitProductionBranch",
        hint="the branch Vercel deploys to production, e.g. main",
        description="Cloud: branch Vercel deploys to production.",
        min_length=1,
    )
    app_commit: str = setting(
        "",
        key="appCommit",
        hint="a full 40-character commit sha of the app repository (empty: the branch head)",
        description="Cloud: app commit the deployment builds (empty = head of "
        "gitProductionBranch); the deploy workflow sets the one dev's gate passed.",
    )
    domains: list[str] = setting(
        [],
        key="domains",
        hint="comma-separated host names like mentora.app,www.mentora.app",
        description="Cloud: comma-separated domains attached to the Vercel project (also CORS "
        "origins).",
    )
    app_url: str = setting(
        key="appUrl",
        hint="the app's public https:// origin (NEXT_PUBLIC_APP_URL)",
        description="Cloud, required: the app's public https:// origin (NEXT_PUBLIC_APP_URL).",
    )
    sentry_org: str = setting(
        "",
        key="sentryOrg",
        hint="your Sentry organization slug",
        description="Cloud: Sentry organization slug (SENTRY_ORG), for smoke to look its test "
        "error up.",
        pattern=r"^[a-z0-9_-]{0,64}$",
    )
    sentry_project: str = setting(
        "",
        key="sentryProject",
        hint="the Sentry project slug of the app",
        description="Cloud: Sentry project slug (SENTRY_PROJECT), for smoke to look its test "
        "error up.",
        pattern=r"^[a-z0-9_-]{0,64}$",
    )
    hardened: bool = setting(
        False,
        key="hardened",
        hint="true for prod (protect state), false otherwise",
        description="Cloud: protect and retain stateful resources, version the bucket (required "
        "on prod).",
    )

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

    @field_validator("app_commit")
    @classmethod
    def _commit(cls, commit: str) -> str:
        if commit and not re.fullmatch(r"[0-9a-f]{40}", commit):
            raise ValueError("must be a full 40-character commit sha (lower-case hex) or empty")
        return commit

    @property
    def deploy_ref(self) -> str:
        """What Vercel builds: the pinned app commit, else the production branch's head."""
        return self.app_commit or self.git_production_branch

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
        what = (
            PROVIDER_SECRETS.get(key)
            or _SMOKE_SECRET_WHAT.get(key)
            or f"the value of {ISSUED_SECRETS[key]}"
        )
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
