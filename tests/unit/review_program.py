"""Runs the cloud review program (`pr-42`, base dev) under Pulumi mocks, like cloud_program.py.

dev's outputs come from a mocked StackReference (the engine answers a `pulumi:pulumi:StackReference`
resource with `outputs`); everything else is recorded by `CloudMocks`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
from pulumi.runtime import MockResourceArgs

from stacks.cloud_settings import CLOUD_SECRETS
from stacks.config import StackConfig, parse_stack_config
from tests.unit.cloud_program import FAKE_SECRETS, CloudMocks, stack_file

PR = 42
STACK = f"pr-{PR}"
BRANCH = "feat/lesson-notes"
HEAD = "0123456789abcdef0123456789abcdef01234567"
DEV_REF = "devprojectrefabcdefg"
DEV_OUTPUTS = {
    "supabase_url": f"https://{DEV_REF}.supabase.co",
    "vercel_project_id": "prj_devproject0123",
    "bucket_name": "mentora-videos-dev",
}
STACK_REFERENCE = "pulumi:pulumi:StackReference"
BYPASS = "vercel:index/projectProtectionBypass:ProjectProtectionBypass"
BYPASS_SECRET = "abcdefghijklmnopqrstuvwxyz012345"


class ReviewMocks(CloudMocks):
    """`CloudMocks` that also answer the StackReference to dev with dev's outputs."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE:
            self.declared.append(_declared(args))
            return args.inputs["name"], {**args.inputs, "outputs": dict(DEV_OUTPUTS)}
        if args.typ == BYPASS:  # Vercel generates the secret when none is given
            resource_id, outputs = super().new_resource(args)
            return resource_id, {**outputs, "secret": BYPASS_SECRET}
        return super().new_resource(args)


def _declared(args: MockResourceArgs) -> Any:
    from tests.unit.cloud_program import Declared

    return Declared(args.typ, args.name, dict(args.inputs))


def review_config(**overrides: str) -> StackConfig:
    """dev's committed settings plus the review keys `review up` sets, every secret faked."""
    raw = {**stack_file("dev"), "reviewBranch": BRANCH, "appCommit": HEAD, **overrides}
    encrypted = dict.fromkeys(CLOUD_SECRETS, True)
    return parse_stack_config(
        STACK, {k: v for k, v in raw.items() if v != ""}, FAKE_SECRETS, encrypted
    )


def start_review_mocks() -> ReviewMocks:
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = ReviewMocks()
    pulumi.runtime.set_mocks(
        mocks, project="mentora", stack=STACK, preview=False, organization="organization"
    )
    return mocks
