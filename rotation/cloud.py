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
from rotation.cloud_cache import UpstashLogin
from rotation.cloud_driver import CloudKind
from rotation.cloud_storage import StorageKey

NOT_WIRED = {
    "database": "Supabase database role: alternating login roles as on the local stack "
    "(rotation/kinds/database.py's SQL, run over the pooler in session mode) - not wired",
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


def upstash_login() -> UpstashLogin:
    """The real Redis (TLS) and Developer API clients of the `cache` kind."""
    import httpx
    import redis

    from rotation import cloud_upstash

    def connect(endpoint: str, port: int, user: str, password: str) -> object:
        return redis.Redis(
            host=endpoint,
            port=port,
            username=user,
            password=password,
            ssl=True,
            socket_timeout=10,
            socket_connect_timeout=10,
        )

    http = httpx.Client()

    def reset(email: str, api_key: str, database_id: str) -> dict[str, str]:
        return cloud_upstash.reset_default(http, email, api_key, database_id)

    return UpstashLogin(connect=connect, reset=reset)


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
            f"nothing changed (`mentora-infra rotate {stack} cache` and `... storage` work)"
        )
        return int(Exit.FAILED)
    gate = Gate(stack, default_on_fail(stack), root=root, lock_held=True)
    run = cloud_driver.Run(stack, root, gate=gate.run, say=say)
    made: dict[str, Callable[[], CloudKind]] = {
        "cache": upstash_login,
        "storage": lambda: storage_key(stack, root),
    }
    for name in names:  # one gate per kind: each switch is proven before the next begins
        code = cloud_driver.rotate(run, made[name]())
        if code != Exit.GREEN:
            return int(code)
    return int(Exit.GREEN)
