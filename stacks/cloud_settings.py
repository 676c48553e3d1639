"""Settings of the cloud stacks (dev, prod): accounts, sizes, domains and the secret keys they need.

Plain settings are validated by `CloudSettings` (pydantic) like every other key; the secret keys
and their checks live in stacks/cloud_secrets.py (re-exported here).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import field_validator

from stacks.cloud_secrets import (  # re-exported: the secret keys are part of the cloud settings
    CLOUD_SECRETS,
    ISSUED_SECRETS,
    OPTIONAL_SECRETS,
    PROVIDER_SECRETS,
    REVIEW_SECRETS,
    SMOKE_SECRETS,
    secret_problems,
)
from stacks.model import Model
from stacks.settings import setting

__all__ = [
    "CLOUD_REGIONS",
    "CLOUD_SECRETS",
    "ISSUED_SECRETS",
    "OPTIONAL_SECRETS",
    "PROVIDER_SECRETS",
    "REVIEW_SECRETS",
    "SMOKE_SECRETS",
    "CloudSettings",
    "secret_problems",
]

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

# A Checkly public location is named like an AWS region (the pulumi-checkly SDK's examples use
# us-east-1, eu-west-1, ap-northeast-1 ...); Checkly itself refuses one it does not run.
_LOCATION = re.compile(r"^[a-z]{2}-[a-z]+-[0-9]$")


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
    review_branch: str = setting(
        "",
        key="reviewBranch",
        hint="the pull request's head branch, e.g. feat/login (set by `mentora-infra review up`)",
        description="Cloud review stacks (pr-<N>) only: the pull request's git branch; its "
        "Vercel variables and Inngest branch environment are scoped to it.",
        pattern=r"^$|^[A-Za-z0-9._/-]{1,200}$",
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
        description="Cloud, required: Sentry organization slug (SENTRY_ORG), for smoke to look "
        "its test error up and for the alert rules.",
        pattern=r"^[a-z0-9_-]{0,64}$",
    )
    sentry_project: str = setting(
        "",
        key="sentryProject",
        hint="the Sentry project slug of the app",
        description="Cloud, required: Sentry project slug (SENTRY_PROJECT) of the app, for smoke "
        "to look its test error up and for the alert rules.",
        pattern=r"^[a-z0-9_-]{0,64}$",
    )
    monitor_locations: list[str] = setting(
        ["us-east-1", "eu-west-1"],
        key="monitorLocations",
        hint="at least two comma-separated Checkly locations like us-east-1,eu-west-1",
        description="Cloud: comma-separated Checkly locations the health check runs from (at "
        "least two).",
    )
    alert_email: str = setting(
        "",
        key="alertEmail",
        hint="the e-mail address monitor alerts go to",
        description="Cloud: e-mail address the health check alerts (this or the secret "
        "mentora:alertWebhookUrl is required).",
        pattern=r"^$|^[^@\s]+@[^@\s]+\.[a-z]{2,}$",
    )
    sentry_spike_percent: int = setting(
        100,
        key="sentrySpikePercent",
        hint="a whole percentage such as 100 (errors doubled)",
        description="Cloud: Sentry alerts when the app's errors in 15 minutes exceed those an "
        "hour earlier by more than this percentage.",
    )
    hardened: bool = setting(
        False,
        key="hardened",
        hint="true for prod (protect state), false otherwise",
        description="Cloud: protect and retain stateful resources, version the bucket (required "
        "on prod).",
    )

    @field_validator("supabase_allowed_cidrs", "domains", "monitor_locations", mode="before")
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

    @field_validator("monitor_locations")
    @classmethod
    def _locations(cls, locations: list[str]) -> list[str]:
        bad = [loc for loc in locations if not _LOCATION.match(loc)]
        if bad:
            raise ValueError(f"{bad} are not location names like us-east-1")
        if len(set(locations)) < 2:
            raise ValueError("needs at least two different locations")
        return list(dict.fromkeys(locations))

    @field_validator("sentry_spike_percent")
    @classmethod
    def _percent(cls, percent: int) -> int:
        if not 10 <= percent <= 1000:
            raise ValueError("must be 10-1000")
        return percent

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
