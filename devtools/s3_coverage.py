"""Which of the S3 calls smoke/checks/storage.py and smoke/s3.py make a given S3-compatible store
answers as AWS does, and whether an object survives a restart of the store. Prints JSON lines.

Used to choose the local S3 store (docs/faults.md, "S3 durability"): run against a store with a
bucket and a key pair that may use it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

TIMEOUT_S = 3.0


def client(endpoint: str, key: str | None, secret: str | None, region: str = "us-east-1") -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore import UNSIGNED  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    config = Config(
        connect_timeout=TIMEOUT_S,
        read_timeout=TIMEOUT_S,
        retries={"total_max_attempts": 1, "mode": "standard"},
        signature_version=UNSIGNED if key is None else None,
        s3={"addressing_style": "path"},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=config,
    )


def _outcome(call: Callable[[], Any]) -> tuple[str, float]:
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    start = time.perf_counter()
    try:
        answer = call()
    except ClientError as exc:
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        text = f"{status} {err.get('Code')}"
    except BotoCoreError as exc:
        text = f"{type(exc).__name__}: {exc}"[:160]
    else:
        text = "ok" if answer is None else str(answer)[:160]
    return text, round((time.perf_counter() - start) * 1000, 1)


def coverage(endpoint: str, bucket: str, key: str, secret: str) -> list[dict[str, Any]]:
    """Each call smoke makes, what the store answered, and what AWS answers (`want`)."""
    signed = client(endpoint, key, secret)
    anon = client(endpoint, None, None)
    wrong = client(endpoint, key, secret + "x")
    unknown = client(endpoint, "AKIAUNKNOWNUNKNOWN00", secret)
    obj = "smoke/coverage/object.txt"
    calls: list[tuple[str, Callable[[], Any], str]] = [
        (
            "head_bucket",
            lambda: signed.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"],
            "200",
        ),
        (
            "put_object",
            lambda: signed.put_object(Bucket=bucket, Key=obj, Body=b"mentora")["ResponseMetadata"][
                "HTTPStatusCode"
            ],
            "200",
        ),
        (
            "get_object",
            lambda: signed.get_object(Bucket=bucket, Key=obj)["Body"].read(),
            "b'mentora'",
        ),
        (
            "list_objects_v2",
            lambda: signed.list_objects_v2(Bucket=bucket, Prefix=obj)["KeyCount"],
            "1",
        ),
        (
            "anonymous get_object",
            lambda: anon.get_object(Bucket=bucket, Key=obj),
            "403 AccessDenied",
        ),
        (
            "anonymous list_objects_v2",
            lambda: anon.list_objects_v2(Bucket=bucket),
            "403 AccessDenied",
        ),
        ("wrong secret head_bucket", lambda: wrong.head_bucket(Bucket=bucket), "403 403"),
        (
            "wrong secret get_object",
            lambda: wrong.get_object(Bucket=bucket, Key=obj),
            "403 SignatureDoesNotMatch",
        ),
        (
            "unknown key get_object",
            lambda: unknown.get_object(Bucket=bucket, Key=obj),
            "403 InvalidAccessKeyId",
        ),
        (
            "get_public_access_block",
            lambda: signed.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
            "all four True (or NoSuchPublicAccessBlockConfiguration)",
        ),
        (
            "get_bucket_policy_status",
            lambda: signed.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"],
            "{'IsPublic': False} or NoSuchBucketPolicy",
        ),
        (
            "get_bucket_policy",
            lambda: signed.get_bucket_policy(Bucket=bucket)["Policy"],
            "404 NoSuchBucketPolicy",
        ),
        (
            "get_bucket_acl",
            lambda: [g["Permission"] for g in signed.get_bucket_acl(Bucket=bucket)["Grants"]],
            "['FULL_CONTROL'] (owner only)",
        ),
        (
            "delete_object",
            lambda: signed.delete_object(Bucket=bucket, Key=obj)["ResponseMetadata"][
                "HTTPStatusCode"
            ],
            "204",
        ),
        (
            "list after delete",
            lambda: signed.list_objects_v2(Bucket=bucket, Prefix=obj)["KeyCount"],
            "0",
        ),
    ]
    rows = []
    for name, call, want in calls:
        got, ms = _outcome(call)
        rows.append({"call": name, "got": got, "want": want, "ms": ms})
    return rows


def put_marker(endpoint: str, bucket: str, key: str, secret: str) -> None:
    client(endpoint, key, secret).put_object(Bucket=bucket, Key="durability/marker", Body=b"kept")


def marker_survived(endpoint: str, bucket: str, key: str, secret: str) -> str:
    got, _ = _outcome(
        lambda: (
            client(endpoint, key, secret)
            .get_object(Bucket=bucket, Key="durability/marker")["Body"]
            .read()
        )
    )
    return got


def emit(**row: Any) -> None:
    print(json.dumps(row), flush=True)
