"""`rotate` on a cloud stack: storage is wired (rotation/cloud_storage.py); for the others, what
each provider's published API allows and what is still missing.

The provider requests are written and contract-tested (tests/unit/rotation/test_cloud_*.py):
AWS IAM's two access keys (cloud_aws.py, boto3), Supabase's secret API keys
(cloud_supabase.py, Management API) and Upstash's ACL users (cloud_upstash.py). Only the AWS
key is wired to a cloud stack's state and its gate; the others say so and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gate.exitcodes import Exit
from rotation import cloud_driver
from rotation.cloud_storage import StorageKey

NOT_WIRED = {
    "database": "Supabase database role: alternating login roles as on the local stack "
    "(rotation/kinds/database.py's SQL, run over the pooler in session mode) - not wired",
    "cache": "Upstash: two credentials at once through ACL users (ACL GENTOKEN / SETUSER / "
    "RESTTOKEN, then DELUSER of the old user): no window; only the `default` user cannot be "
    "changed by ACL (a password reset, which would be a window while the app still uses it) - "
    "requests in rotation/cloud_upstash.py, not wired",
    "errors": "Sentry: the DSN and auth token are config secrets issued by Sentry "
    "(pulumi config set --secret) - no rotation API used",
}
ORDER = ("database", "cache", "storage", "errors")


def storage_key(stack: str, root: Path) -> StorageKey:
    """The real IAM and STS clients of the `storage` kind."""
    import boto3  # type: ignore[import-untyped]

    from gate.runner import read_stack_file

    region = str(read_stack_file(stack, root).get("config", {}).get("mentora:region", ""))

    def sts_for(key_id: str, secret: str) -> object:
        return boto3.client(
            "sts",
            region_name=region or None,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )

    return StorageKey(iam=boto3.client("iam"), sts_for=sts_for)


def main(stack: str, root: Path, what: str, say: Callable[[str], None]) -> int:
    """Exit code of `rotate <cloud stack> <what>` (the caller holds the stack's gate lock)."""
    from gate.gatekeeper import Gate, default_on_fail

    names = list(ORDER) if what == "all" else [what]
    missing = [name for name in names if name in NOT_WIRED]
    if missing:  # refused before anything is touched: no half-done `all`
        for name in missing:
            say(f"rotate {stack} {name}: {NOT_WIRED[name]}")
        say(
            f"rotate {stack}: {', '.join(missing)} cannot be rotated on a cloud stack yet; "
            f"nothing changed (`mentora-infra rotate {stack} storage` rotates the app's AWS key)"
        )
        return int(Exit.FAILED)
    gate = Gate(stack, default_on_fail(stack), root=root, lock_held=True)
    run = cloud_driver.Run(stack, root, gate=gate.run, say=say)
    return int(cloud_driver.rotate(run, storage_key(stack, root)))
