"""The secret config keys of the cloud stacks, and the checks they get before anything is touched.

Secrets are only checked for presence, for being stored encrypted and for their shape; their
values never appear in an error message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

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
    "checklyAccountId": "the Checkly account id (a UUID, app.checklyhq.com/settings/account/"
    "general)",
    "checklyApiKey": "a Checkly user API key (app.checklyhq.com/settings/user/api-keys), for "
    "the health check",
    "sentryAlertsToken": "a Sentry internal-integration token with scope alerts:write (Settings "
    "-> Developer Settings -> Custom Integrations), for the alert rules",
}
# Secrets that may stay unset (checked for encryption and shape when set): key -> what it is.
OPTIONAL_SECRETS: dict[str, str] = {
    "alertWebhookUrl": "an https:// webhook URL the health check's alerts are POSTed to",
    **{
        key: f"the {what} key of Inngest's branch environments, which every branch environment "
        "shares and production does not (inngest.com/docs/platform/environments); required on "
        "dev for cloud review stacks (pr-<N>)"
        for key, what in (
            ("inngestBranchEventKey", "event"),
            ("inngestBranchSigningKey", "signing"),
        )
    },
}
# Secrets a cloud review stack (pr-<N>) needs besides its base's: config key -> app env name.
REVIEW_SECRETS: dict[str, str] = {
    "inngestBranchEventKey": "INNGEST_EVENT_KEY",
    "inngestBranchSigningKey": "INNGEST_SIGNING_KEY",
}
CLOUD_SECRETS: tuple[str, ...] = (
    *PROVIDER_SECRETS,
    *ISSUED_SECRETS,
    *SMOKE_SECRETS,
    *OPTIONAL_SECRETS,
)
# Shape checks for secrets whose format is public knowledge (values are never echoed).
_SECRET_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "sentryDsn": (
        re.compile(r"^https://[0-9a-f]+@[A-Za-z0-9.-]+/\d+$"),
        "a Sentry DSN URL like https://<key>@o0.ingest.sentry.io/<project id>",
    ),
    "anthropicApiKey": (re.compile(r"^sk-ant-\S+$"), "an Anthropic key starting with sk-ant-"),
    "openaiApiKey": (re.compile(r"^sk-\S+$"), "an OpenAI key starting with sk-"),
    "checklyAccountId": (
        re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        "a Checkly account id (a lower-case UUID)",
    ),
    "alertWebhookUrl": (re.compile(r"^https://[^\s/]+/\S*$"), "an https:// URL"),
}


def secret_problems(
    stack: str, values: Mapping[str, str | None], encrypted: Mapping[str, bool]
) -> list[str]:
    """What is wrong with the cloud secrets; each line names the key and the command to fix it."""
    problems: list[str] = []
    for key in CLOUD_SECRETS:
        what = (
            PROVIDER_SECRETS.get(key)
            or _SMOKE_SECRET_WHAT.get(key)
            or OPTIONAL_SECRETS.get(key)
            or f"the value of {ISSUED_SECRETS[key]}"
        )
        fix = f"pulumi config set --secret mentora:{key} <value> -s {stack}"
        value = values.get(key)
        if not value and key in OPTIONAL_SECRETS:
            continue
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
