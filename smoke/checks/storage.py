"""Storage checks: put/get/delete a `smoke/<run-id>/` object; anonymous get and list denied; the
bucket's own settings (public access block, policy, ACL) grant the public nothing.

Credentials come from the stack's `env` output (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), never
from the caller's environment or ~/.aws: the check proves the stack's own credentials work.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from smoke.checks import check, client
from smoke.checks.common import Recorder, call_failed, fail_if_down, unreachable
from smoke.clients.s3 import (
    DENIED,
    anonymous_answer,
    bucket_exposure,
    endpoint_url,
    s3_client,
    verdict,
)
from smoke.failures import CheckFailed, CheckSkipped
from smoke.outputs import StackOutputs

PREFIX_ENV = "AWS_S3_PREFIX"
"""Set on cloud review stacks (pr-<N>): their key may use only this prefix of the shared bucket."""


def run_prefix(outputs: StackOutputs, run_id: str) -> str:
    """Where this run's objects go: `smoke/<run>/`, under the stack's own prefix when it has one.

    >>> run_prefix(StackOutputs.from_json(raw, "x"), "r1")  # doctest: +SKIP
    'pr-42/smoke/r1/'
    """
    return f"{outputs.env.get(PREFIX_ENV, '')}smoke/{run_id}/"


def probe_bucket(client: Any, bucket: str, stack_prefix: str) -> None:
    """Prove the bucket exists and the key works: HeadBucket, or for a key confined to a prefix
    (HeadBucket needs s3:ListBucket without a prefix) a one-key list under that prefix."""
    if stack_prefix:
        client.list_objects_v2(Bucket=bucket, Prefix=stack_prefix, MaxKeys=1)
    else:
        client.head_bucket(Bucket=bucket)


@dataclass(frozen=True)
class Storage:
    """A signed client, the bucket and this run's key prefix."""

    client: Any
    bucket: str
    prefix: str
    target: str


@client
def s3(outputs: StackOutputs, timeout_s: float, run_id: str) -> Iterator[Storage]:
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    missing = [k for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if not outputs.env.get(k)]
    if missing:
        raise CheckFailed(f"storage: the stack's env output has no {', '.join(missing)}")
    url, bucket = endpoint_url(outputs), outputs.bucket_name
    fail_if_down("storage", f"bucket {bucket}", url, outputs)
    prefix = run_prefix(outputs, run_id)
    try:
        client = s3_client(outputs, timeout_s)
        probe_bucket(client, bucket, outputs.env.get(PREFIX_ENV, ""))
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            raise CheckFailed(f"storage: bucket {bucket} does not exist at {url}") from None
        raise unreachable("storage", f"bucket {bucket}", url, exc, outputs) from None
    except BotoCoreError as exc:
        raise unreachable("storage", f"bucket {bucket}", url, exc, outputs) from None
    yield Storage(client, bucket, prefix, f"s3://{bucket} via {url}")
    try:  # cleanup runs whatever the checks did
        listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
        for item in listed.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    except (BotoCoreError, ClientError) as exc:
        raise call_failed("storage", f"cleanup of {prefix}", url, exc) from None


@check(writes=True)
def test_put_get_delete(s3: Storage, check: Recorder) -> None:
    key, body = f"{s3.prefix}object.txt", b"mentora smoke"
    with check.timed(s3.target):
        s3.client.put_object(Bucket=s3.bucket, Key=key, Body=body)
        got = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
        s3.client.delete_object(Bucket=s3.bucket, Key=key)
        listed = s3.client.list_objects_v2(Bucket=s3.bucket, Prefix=key)
    assert got == body, f"storage: GET returned {len(got)} bytes, not the {len(body)} put"
    assert listed.get("KeyCount", 0) == 0, f"storage: {key} is still listed after DELETE"


def anonymous(outputs: StackOutputs, timeout_s: float, s3: Storage, call: str, **kw: Any) -> int:
    """Status of one unsigned `call` on the bucket; a connection failure fails the check."""
    from botocore.exceptions import BotoCoreError

    client = s3_client(outputs, timeout_s, anonymous=True)
    try:
        return anonymous_answer(lambda: getattr(client, call)(Bucket=s3.bucket, **kw))
    except BotoCoreError as exc:
        raise call_failed("storage", f"anonymous {call}", endpoint_url(outputs), exc) from None


@check(writes=True)
def test_anonymous_get_denied(
    s3: Storage, check: Recorder, outputs: StackOutputs, timeout_s: float
) -> None:
    key = f"{s3.prefix}private.txt"
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"private")
    with check.timed(s3.target):
        status = anonymous(outputs, timeout_s, s3, "get_object", Key=key)
    assert status in DENIED, f"storage: anonymous GET of {key} {verdict(status)}"


@check()
def test_anonymous_list_denied(
    s3: Storage, check: Recorder, outputs: StackOutputs, timeout_s: float
) -> None:
    with check.timed(s3.target):
        status = anonymous(outputs, timeout_s, s3, "list_objects_v2")
    assert status in DENIED, f"storage: anonymous LIST of {s3.bucket} {verdict(status)}"


@check()
def test_bucket_settings_grant_the_public_nothing(s3: Storage, check: Recorder) -> None:
    # A filter in front of a store (the local one answers 403 to every unsigned request) can
    # hide a public bucket from the anonymous checks: the settings themselves must be private.
    from botocore.exceptions import BotoCoreError, ClientError

    with check.timed(s3.target):
        try:
            found = bucket_exposure(s3.client, s3.bucket)
        except (BotoCoreError, ClientError, ValueError) as exc:
            what = "reading the bucket's access settings"
            raise call_failed("storage", what, s3.target, exc) from None
    assert not found.findings, (
        f"storage: bucket {s3.bucket} is open to the public: {'; '.join(found.findings)} "
        "(fix: delete the public policy statement or ACL grant and turn all four public access "
        "block settings on)"
    )
    if found.unread:
        raise CheckSkipped(
            f"storage: the stack's key cannot read {', '.join(found.unread)} of {s3.bucket}: "
            "grant it those read permissions to check the bucket's settings"
        )
