"""`S3Server`: an S3-compatible store (moto) on 127.0.0.1 with IAM auth and a private bucket.

moto keeps everything in memory; the store's process records each change in its data dir before
answering it (one file per object and an append-only JSON journal) and replays them when it
starts (components/local/s3_journal.py), so they survive a crash and a restart; a damaged store
stops the start with the file named (the process's last log line, quoted in the error). IAM is
not saved: a restart (after a crash, on `pulumi up --refresh`) issues new credentials, which
dependents (the env file, the app) pick up: they are outputs here.

The server process is `python -m components.local.s3_process PORT DATA_DIR` (s3_process.py):
moto's WSGI app behind a guard that answers 403 to unsigned requests and to `/moto-api/*`.
moto checks IAM auth on header-signed requests only: presigned URLs get a 501 there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.local import ownership, processes
from components.local.errors import LocalServerError, ServerStartError
from components.local.s3_bucket_settings import BUCKET_MANAGED, bucket_facts, restore_bucket
from components.local.s3_journal import ObjectJournal
from components.local.s3_migrate import memory_loss, start_journal
from components.local.s3_principals import principals
from components.local.server_provider import (
    LocalServerProvider,
    LocalServerResource,
    Managed,
    Secrets,
    ServerSettings,
)

SERVICE = "storage"
PID_FILE = "moto.pid"  # inside the data dir
SECRET_OUTPUTS = (
    "access_key_id",
    "secret_access_key",
    "rotator_access_key_id",
    "rotator_secret_access_key",
    "backup_access_key_id",
    "backup_secret_access_key",
    "tenant_admin_access_key_id",
    "tenant_admin_secret_access_key",
)
# IAM calls that run before auth is enforced: create user, create access key, put user policy,
# for each principal (`_principals`).
CALLS_PER_PRINCIPAL = 3


def _client(service: str, s: S3Settings, key: str, secret: str, probe: bool = False) -> Any:
    return client(service, f"http://{processes.HOST}:{s.port}", s.region, key, secret, probe)


def client(
    service: str, endpoint: str, region: str, key: str, secret: str, probe: bool = False
) -> Any:
    """A boto3 client of a local store (`probe`: short timeouts, one attempt)."""
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    timeouts = (
        {"connect_timeout": 2, "read_timeout": 2, "retries": {"max_attempts": 1}}
        if probe
        else {"connect_timeout": 3, "read_timeout": 10, "retries": {"max_attempts": 2}}
    )
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(**timeouts),
    )


def _last_line(log: Path) -> str:
    """The last line the store's process wrote (why it exited), from the log's last 4 KB."""
    with open(log, "rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - 4096))
        lines = f.read().decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no output"


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    """`bucket` (kept when it exists) with the managed settings of every local bucket."""
    if not bucket_exists(s3, bucket):
        location = {} if region == "us-east-1" else {"LocationConstraint": region}
        s3.create_bucket(
            Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {})
        )
    restore_bucket(s3, bucket, BUCKET_MANAGED.keys())


def bucket_exists(s3: Any, bucket: str) -> bool:
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
            return False
        raise
    return True


@dataclass(frozen=True)
class S3Settings(ServerSettings):
    """An S3 store: the bucket it holds and its region."""

    bucket: str = "mentora-videos"
    region: str = "us-east-1"
    backup_bucket: str = ""
    """A second private bucket, for database backups, with a principal of its own; "" for none."""
    tenant_admin: bool = True
    """Provision the principal that makes review stacks' buckets here (s3_tenant.py)."""


class S3Provider(LocalServerProvider[S3Settings]):
    """Starts moto's server, creates the app's IAM user and key, and the private bucket.

    Every start provisions IAM again and issues new keys; the bucket comes back from the store's
    snapshot with its objects (created only when it is not there yet)."""

    SERVICE = SERVICE
    PID_FILE = PID_FILE
    SETTINGS = S3Settings
    ID_PREFIX = "s3"
    REPLACE_KEYS = ("data_dir", "bucket", "region")
    RESTART_KEYS = ("backup_bucket", "tenant_admin")
    HOLDS = "every object of its bucket"
    SECRET_KEYS = SECRET_OUTPUTS

    def set_up(self, s: S3Settings, keys: Secrets) -> None:
        # An empty journal marks a new store: from now on a missing one means a lost store.
        data_dir = processes.guarded_data_dir(SERVICE, str(s.data_dir), s.hints)
        ObjectJournal(data_dir).path.touch(mode=0o600)

    def restart_loses(self, old: S3Settings, keys: Secrets) -> tuple[str, str]:
        if not keys.get("access_key_id"):
            return "", ""
        s3 = _client("s3", old, keys["access_key_id"], keys["secret_access_key"], probe=True)
        endpoint = f"http://{processes.HOST}:{old.port}"
        keep = (
            "copy them out with any S3 client and the app's key (AWS_* in the env file), e.g. "
            f"`aws s3 sync s3://{old.bucket} ./kept --endpoint-url {endpoint}`, and back after "
            "the restart"
        )
        return memory_loss(old.data_dir, s3, old.bucket), keep

    def before_restart(self, old: S3Settings, keys: Secrets) -> None:
        if keys.get("access_key_id"):
            s3 = _client("s3", old, keys["access_key_id"], keys["secret_access_key"], probe=True)
            start_journal(old.data_dir, s3, old.bucket)

    def start(self, s: S3Settings, keys: Secrets) -> Secrets:
        data_dir = processes.guarded_data_dir(SERVICE, str(s.data_dir), s.hints)
        command = [sys.executable, "-m", "components.local.s3_process", str(s.port), str(data_dir)]
        # The server runs this very module: from the checkout the provider was loaded from.
        root = str(Path(__file__).resolve().parents[2])
        python_path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        env = {
            **os.environ,
            "PYTHONPATH": python_path,
            # Exactly the calls provisioning makes: every later request is checked.
            "INITIAL_NO_AUTH_ACTION_COUNT": str(CALLS_PER_PRINCIPAL * len(principals(s))),
        }
        with open(data_dir / "moto.log", "ab") as log:
            # A session of its own: the engine kills the provider's process group when it exits.
            proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                cwd=data_dir,
            )
        (data_dir / PID_FILE).write_text(str(proc.pid))
        ownership.record_child(proc, data_dir, SERVICE)  # so a failed start is stopped
        hint = f"see {data_dir / 'moto.log'}"

        def ready() -> bool:
            if proc.poll() is not None:  # fail fast instead of waiting out the deadline
                why = _last_line(data_dir / "moto.log")
                raise ServerStartError(
                    f"storage: the S3 store exited ({proc.returncode}): {why}; {hint}",
                    service=SERVICE,
                )
            return processes.port_open(s.port)

        processes.wait_until(
            SERVICE, ready, f"a connection on {processes.HOST}:{s.port}", hint=hint
        )
        try:
            return self._provision_store(s)
        except LocalServerError:
            raise
        except Exception as exc:
            raise LocalServerError(
                f"storage: provisioning the local S3 store failed: {exc}", service=SERVICE
            ) from None

    def _provision_store(self, s: S3Settings) -> Secrets:
        # Every IAM call first: they are the unauthenticated bootstrap calls, counted by moto.
        iam = _client("iam", s, "bootstrap", "bootstrap")
        keys: Secrets = {}
        for user, prefix, policy_name, policy in principals(s):
            iam.create_user(UserName=user)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            iam.put_user_policy(UserName=user, PolicyName=policy_name, PolicyDocument=policy)
            keys[f"{prefix}access_key_id"] = key["AccessKeyId"]
            keys[f"{prefix}secret_access_key"] = key["SecretAccessKey"]
        buckets = [(s.bucket, "")] + ([(s.backup_bucket, "backup_")] if s.backup_bucket else [])
        for bucket, prefix in buckets:
            self._provision_bucket(
                s, bucket, keys[f"{prefix}access_key_id"], keys[f"{prefix}secret_access_key"]
            )
        return keys

    def _provision_bucket(self, s: S3Settings, bucket: str, key_id: str, secret: str) -> None:
        # It comes back from the snapshot after a restart: kept.
        ensure_bucket(_client("s3", s, key_id, secret), bucket, s.region)

    def probe(self, s: S3Settings, keys: Secrets) -> bool:
        if not keys.get("access_key_id") or not processes.port_open(s.port):
            return False
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        client = _client("s3", s, keys["access_key_id"], keys["secret_access_key"], probe=True)
        try:
            client.head_bucket(Bucket=s.bucket)  # signed: the app's own key must still work
        except (BotoCoreError, ClientError):
            return False
        return True

    def expected(self, s: S3Settings, keys: Secrets) -> Managed:
        return {**super().expected(s, keys), **BUCKET_MANAGED}

    def observe(self, s: S3Settings, keys: Secrets) -> Managed:
        """Listening address and the bucket's public access block, policy and default
        encryption, read with the app's key."""
        seen = super().observe(s, keys)
        if not keys.get("access_key_id") or not processes.port_open(s.port):
            return seen
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        s3 = _client("s3", s, keys["access_key_id"], keys["secret_access_key"], probe=True)
        try:
            return {**seen, **bucket_facts(s3, s.bucket)}
        except (BotoCoreError, ClientError):
            return seen  # cannot tell now; `running` says whether it answers

    def repair(self, s: S3Settings, keys: Secrets, drifted: Managed) -> bool:
        if "listen" in drifted:
            return False
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        s3 = _client("s3", s, keys["access_key_id"], keys["secret_access_key"])
        try:
            restore_bucket(s3, s.bucket, drifted.keys())
        except (BotoCoreError, ClientError):
            return False  # a restart provisions the bucket's settings again
        return True

    def outputs(self, s: S3Settings, keys: Secrets) -> dict[str, Any]:
        return {
            "bucket": s.bucket,
            "region": s.region,
            "endpoint": f"http://{processes.HOST}:{s.port}",
        }


class S3Server(LocalServerResource):
    """A local S3-compatible store holding one private bucket and the app's key pair for it."""

    endpoint: pulumi.Output[str]
    region: pulumi.Output[str]
    bucket: pulumi.Output[str]
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]
    backup_access_key_id: pulumi.Output[str]
    backup_secret_access_key: pulumi.Output[str]
    tenant_admin_access_key_id: pulumi.Output[str]
    tenant_admin_secret_access_key: pulumi.Output[str]
    running: pulumi.Output[bool]

    PROVIDER = S3Provider
    OUTPUTS = ("endpoint", "running")
    SECRET_OUTPUTS = SECRET_OUTPUTS
