"""`rotate` on a cloud stack: each kind through its provider's published API, switched by the
cloud gate (rotation/cloud_driver.py), requests contract-tested in tests/unit/rotation/.

- `database`: the app's Postgres login alternates between two login roles
  (rotation/cloud_db_login.py; `postgres`' own password is reset once the app has left it),
  then the Supabase server key between two secret API keys (rotation/cloud_service_key.py);
- `cache`: Upstash ACL users alternate (rotation/cloud_cache.py);
- `storage`: the IAM user's two access keys (rotation/cloud_storage.py);
- `errors`: nothing to rotate through an API (NOT_ROTATABLE).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gate.exitcodes import Exit
from rotation import cloud_db_password, cloud_driver
from rotation.cloud_cache import UpstashLogin
from rotation.cloud_db_login import SupabaseLogin
from rotation.cloud_driver import CloudKind
from rotation.cloud_service_key import SupabaseServerKey
from rotation.cloud_storage import StorageKey
from rotation.cloud_supabase import SecretKeys
from rotation.journal import Journal
from rotation.state import StackState

NOT_ROTATABLE = (
    "Sentry's DSN is public by design (the browser sends it too), so a second one protects "
    "nothing, and its auth token is an organization token, which Sentry makes only in its "
    "settings (no public API creates one). Make a new token there, `pulumi config set --secret "
    "mentora:sentryAuthToken ...`, then `mentora-infra up dev`"
)
ORDER = ("database", "cache", "storage")


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


def server_key() -> SupabaseServerKey:
    """The real Management API and Data API clients of the `database` kind's server key."""
    import httpx

    from components.cloud.supabase_http import SupabaseHttp

    def keys_for(token: str, ref: str) -> SecretKeys:
        return SecretKeys(SupabaseHttp(token), ref)

    def accepts(url: str, key: str) -> bool:
        return httpx.get(f"{url}/rest/v1/", headers={"apikey": key}, timeout=10).status_code != 401

    return SupabaseServerKey(keys_for=keys_for, accepts=accepts)


def supabase_login(gate_replacing: Callable[[list[str]], Exit]) -> SupabaseLogin:
    """The real psycopg connections of the `database` kind's Postgres login."""
    import psycopg

    def connect(url: str) -> object:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)

    def logs_in(url: str) -> bool:
        try:
            with psycopg.connect(url, connect_timeout=10):
                return True
        except psycopg.OperationalError as exc:
            if "password authentication failed" in str(exc):
                return False
            raise

    def reset_admin(state: StackState) -> None:
        cloud_db_password.reset_admin(state, gate_replacing)

    return SupabaseLogin(connect=connect, logs_in=logs_in, reset_admin=reset_admin)


def refused(stack: str, what: str, say: Callable[[str], None]) -> Exit | None:
    """Why `rotate <cloud stack> <what>` cannot start (said), as its exit code; None: it can.
    Checked before the lock is taken or anything is read."""
    if what == "errors":
        say(f"rotate {stack} errors: {NOT_ROTATABLE}; nothing changed")
        return Exit.FAILED
    return None


def main(stack: str, root: Path, what: str, say: Callable[[str], None]) -> int:
    """Exit code of `rotate <cloud stack> <what>` (the caller holds the stack's gate lock and
    has asked `refused` first)."""
    from gate.gatekeeper import Gate, default_on_fail

    names = list(ORDER) if what == "all" else [what]
    if what == "all":
        say(f"rotate {stack}: errors is not rotated here. {NOT_ROTATABLE}")

    def gate_replacing(urns: list[str]) -> Exit:
        on_fail = default_on_fail(stack)
        return Gate(stack, on_fail, root=root, lock_held=True, replace=tuple(urns)).run()

    gate = Gate(stack, default_on_fail(stack), root=root, lock_held=True)
    run = cloud_driver.Run(stack, root, gate=gate.run, say=say)
    made: dict[str, list[Callable[[], CloudKind]]] = {
        "database": [lambda: supabase_login(gate_replacing), server_key],
        "cache": [upstash_login],
        "storage": [lambda: storage_key(stack, root)],
    }
    kinds = [make() for name in names for make in made[name]]
    # A rotation left unfinished goes first: the others would refuse to start beside it.
    left = Journal(stack, root).read()
    kinds.sort(key=lambda kind: not (left and left.kinds == [kind.name]))
    for kind in kinds:  # one gate per kind: each switch is proven before the next begins
        code = cloud_driver.rotate(run, kind)
        if code != Exit.GREEN:
            return int(code)
    return int(Exit.GREEN)
