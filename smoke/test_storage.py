"""Storage checks: put/get/delete a `smoke/<run>/` object; anonymous get and list denied."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smoke.outputs import StackOutputs
from smoke.report import Measure
from smoke.targets import unreachable


def _client(outputs: StackOutputs, timeout_s: float, anonymous: bool = False) -> Any:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        retries={"max_attempts": 1},
        signature_version=UNSIGNED if anonymous else None,
    )
    credentials = (
        {}
        if anonymous
        else {
            "aws_access_key_id": outputs.env.get("AWS_ACCESS_KEY_ID"),
            "aws_secret_access_key": outputs.env.get("AWS_SECRET_ACCESS_KEY"),
        }
    )
    return boto3.client(
        "s3",
        endpoint_url=outputs.storage_endpoint or None,
        region_name=outputs.storage_region,
        config=config,
        **credentials,
    )


def target(outputs: StackOutputs) -> str:
    return f"s3://{outputs.bucket_name} via {outputs.storage_endpoint or 'AWS'}"


@pytest.fixture(scope="module")
def s3(outputs: StackOutputs, timeout_s: float, run_id: str) -> Iterator[Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    client = _client(outputs, timeout_s)
    try:
        client.head_bucket(Bucket=outputs.bucket_name)
    except (BotoCoreError, ClientError) as exc:
        url = outputs.storage_endpoint or f"https://s3.{outputs.storage_region}.amazonaws.com"
        raise unreachable("storage", f"bucket {outputs.bucket_name}", url, exc) from None
    yield client
    listed = client.list_objects_v2(Bucket=outputs.bucket_name, Prefix=f"smoke/{run_id}/")
    for item in listed.get("Contents", []):
        client.delete_object(Bucket=outputs.bucket_name, Key=item["Key"])


@pytest.mark.writes
def test_put_get_delete(s3: Any, measure: Measure, outputs: StackOutputs, run_id: str) -> None:
    key, body = f"smoke/{run_id}/object.txt", b"mentora smoke"
    with measure.timed(target(outputs)):
        s3.put_object(Bucket=outputs.bucket_name, Key=key, Body=body)
        assert s3.get_object(Bucket=outputs.bucket_name, Key=key)["Body"].read() == body
        s3.delete_object(Bucket=outputs.bucket_name, Key=key)
        listed = s3.list_objects_v2(Bucket=outputs.bucket_name, Prefix=key)
    assert listed.get("KeyCount", 0) == 0


def _denied(call: Any) -> str | None:
    """None when the anonymous call was refused; else what it returned."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return None if status >= 400 else f"HTTP {status}"
    return "allowed"


@pytest.mark.writes
def test_anonymous_get_denied(
    s3: Any, measure: Measure, outputs: StackOutputs, run_id: str, timeout_s: float
) -> None:
    key = f"smoke/{run_id}/private.txt"
    s3.put_object(Bucket=outputs.bucket_name, Key=key, Body=b"private")
    anonymous = _client(outputs, timeout_s, anonymous=True)
    with measure.timed(target(outputs)):
        result = _denied(lambda: anonymous.get_object(Bucket=outputs.bucket_name, Key=key))
    assert result is None, f"storage: anonymous GET of {key} was {result}: the bucket is public"


def test_anonymous_list_denied(
    s3: Any, measure: Measure, outputs: StackOutputs, timeout_s: float
) -> None:
    anonymous = _client(outputs, timeout_s, anonymous=True)
    with measure.timed(target(outputs)):
        result = _denied(lambda: anonymous.list_objects_v2(Bucket=outputs.bucket_name))
    assert result is None, f"storage: anonymous LIST of {outputs.bucket_name} was {result}"
