"""A cloud review stack's preview sits behind Vercel Authentication: smoke's app requests carry
the stack's bypass secret (from `smoke_env`) in `x-vercel-protection-bypass`, the header named by
pulumiverse_vercel 5.21.1 `project_protection_bypass.py` (class ProjectProtectionBypass)."""

from __future__ import annotations

from smoke.checks.app import BYPASS_ENV, app_headers
from stacks.contract import StackOutputs, Target


def outputs(**smoke_env: str) -> StackOutputs:
    return StackOutputs(
        target=Target.CLOUD,
        database_url="postgresql://x",
        redis_url="rediss://x",
        bucket_name="b",
        storage_endpoint="",
        storage_region="us-east-1",
        smoke_env=dict(smoke_env),
        stack="pr-42",
    )


def test_a_protected_preview_gets_the_bypass_header_beside_the_checks_own() -> None:
    got = app_headers(outputs(**{BYPASS_ENV: "s3cr3t"}), {"authorization": "Bearer k"})
    assert got == {"x-vercel-protection-bypass": "s3cr3t", "authorization": "Bearer k"}


def test_other_stacks_send_no_bypass_header() -> None:
    assert app_headers(outputs(), {"a": "b"}) == {"a": "b"}
    assert app_headers(outputs(SENTRY_READ_TOKEN="t")) == {}
