"""`rotate` on a cloud stack: what each provider's published API allows, and what is wired.

The provider requests are written and contract-tested (tests/unit/rotation/test_cloud_*.py):
AWS IAM's two access keys (cloud_aws.py, boto3), Supabase's secret API keys
(cloud_supabase.py, Management API) and Upstash's ACL users (cloud_upstash.py). None of them is
yet wired to a cloud stack's state, its Vercel env and redeploy, so `rotate <cloud stack>`
changes nothing and says so (exit 1).
"""

from __future__ import annotations

from collections.abc import Callable

from gate.exitcodes import Exit

FINDINGS = {
    "database": "Supabase database role: alternating login roles as on the local stack "
    "(rotation/kinds/database.py's SQL, run over the pooler in session mode) - not wired",
    "cache": "Upstash: two credentials at once through ACL users (ACL GENTOKEN / SETUSER / "
    "RESTTOKEN, then DELUSER of the old user): no window; only the `default` user cannot be "
    "changed by ACL (a password reset, which would be a window while the app still uses it) - "
    "requests in rotation/cloud_upstash.py, not wired",
    "storage": "AWS IAM: a second access key (CreateAccessKey), the old one made Inactive then "
    "deleted after the switch - requests in rotation/cloud_aws.py, not wired",
    "errors": "Sentry: the DSN and auth token are config secrets issued by Sentry "
    "(pulumi config set --secret) - no rotation API used",
}


def main(stack: str, what: str, say: Callable[[str], None]) -> int:
    """Exit code of `rotate <cloud stack> <what>`: nothing is changed yet."""
    names = list(FINDINGS) if what == "all" else [what]
    for name in names:
        say(f"rotate {stack} {name}: {FINDINGS[name]}")
    say(f"rotate {stack}: cloud rotation is not wired to the cloud stacks yet; nothing changed")
    return int(Exit.FAILED)
