"""S3 helpers of the storage checks: a client with explicit timeouts, and what an anonymous
request's answer proves (only 401/403 proves the bucket private).

>>> verdict(200)
'answered 200: the bucket is public'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smoke.outputs import StackOutputs

DENIED = (401, 403)


def s3_client(outputs: StackOutputs, timeout_s: float, *, anonymous: bool = False) -> Any:
    """An S3 client with explicit timeouts and a single attempt; unsigned when `anonymous`."""
    import boto3  # type: ignore[import-untyped]
    from botocore import UNSIGNED  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    config = Config(
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        retries={"total_max_attempts": 1, "mode": "standard"},
        signature_version=UNSIGNED if anonymous else None,
        # AWS_ENDPOINT_URL_S3 in the caller's shell (from .env.local) must not redirect a check.
        ignore_configured_endpoint_urls=True,
    )
    session = boto3.session.Session(
        aws_access_key_id=None if anonymous else outputs.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=None if anonymous else outputs.env["AWS_SECRET_ACCESS_KEY"],
        region_name=outputs.storage_region,
    )
    return session.client("s3", endpoint_url=outputs.storage_endpoint or None, config=config)


def endpoint_url(outputs: StackOutputs) -> str:
    """The S3 endpoint the checks talk to."""
    return outputs.storage_endpoint or f"https://s3.{outputs.storage_region}.amazonaws.com"


def anonymous_answer(call: Callable[[], Any]) -> int:
    """The HTTP status an unsigned request got (200 when it succeeded)."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    try:
        response = call()
    except ClientError as exc:
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 200))


def verdict(status: int) -> str:
    """Why an anonymous answer other than 401/403 fails: only a refusal proves privacy."""
    if status < 300:
        return f"answered {status}: the bucket is public"
    if status >= 500:
        return f"answered {status}, not 403: the store erred instead of refusing"
    return f"answered {status}, not 403"
