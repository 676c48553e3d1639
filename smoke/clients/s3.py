"""S3 helpers of the storage checks: a client with explicit timeouts, what an anonymous
request's answer proves (only 401/403 proves the bucket private), and what the bucket's own
settings (public access block, policy, ACL) expose.

>>> verdict(200)
'answered 200: the bucket is public'
>>> public_statements('{"Statement": [{"Effect": "Allow", "Principal": "*"}]}')
['statement 0']
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smoke.outputs import StackOutputs

DENIED = (401, 403)
BLOCK_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "everyone",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "any AWS account",
}
# Error codes meaning "this key may not read that setting" or "this store has no such setting".
_CANNOT_READ = {"AccessDenied", "AllAccessDisabled", "NotImplemented", "MethodNotAllowed"}
ABSENT, UNREAD = object(), object()  # what `_read` answers for a missing / unreadable setting


def s3_client(outputs: StackOutputs, timeout_s: float, *, anonymous: bool = False) -> Any:
    """An S3 client with explicit timeouts and a single attempt; unsigned when `anonymous`."""
    key = (
        None
        if anonymous
        else (outputs.env["AWS_ACCESS_KEY_ID"], outputs.env["AWS_SECRET_ACCESS_KEY"])
    )
    return signed_client(outputs.storage_endpoint or None, outputs.storage_region, key, timeout_s)


def signed_client(
    endpoint: str | None, region: str, key: tuple[str, str] | None, timeout_s: float
) -> Any:
    """An S3 client of `endpoint` (None: AWS) signed with `key` (id, secret; None: unsigned),
    with explicit timeouts and a single attempt."""
    from botocore import UNSIGNED  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    config = Config(
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        retries={"total_max_attempts": 1, "mode": "standard"},
        signature_version=UNSIGNED if key is None else None,
        # AWS_ENDPOINT_URL_S3 in the caller's shell (from .env.local) must not redirect a check.
        ignore_configured_endpoint_urls=True,
    )
    return _session(region).create_client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=None if key is None else key[0],
        aws_secret_access_key=None if key is None else key[1],
        config=config,
    )


@functools.cache
def _session(region: str) -> Any:
    """One botocore session per process: a new one reloads botocore's models (~0.1 s per
    client). botocore's own session, not boto3's wrapper: the checks call the client's API
    only, and boto3 adds ~45 modules (s3transfer, its resources) to every smoke and watch round."""
    import botocore.session  # type: ignore[import-untyped]

    session = botocore.session.get_session()
    session.set_config_variable("region", region)
    return session


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


@dataclass
class Exposure:
    """What the bucket's settings grant the public (`findings`), and which settings the stack's
    key could not read (`unread`: the permission, and why)."""

    findings: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)


def public_statements(policy: str) -> list[str]:
    """The Allow statements of a bucket policy that name everyone (`*`) as principal, without a
    condition narrowing them; `NotPrincipal` in an Allow also opens the bucket to everyone."""
    document = json.loads(policy)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for index, statement in enumerate(statements):
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        values = principal.values() if isinstance(principal, dict) else [principal]
        flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
        if "*" in flat or "NotPrincipal" in statement:
            found.append(f"statement {statement.get('Sid') or index}")
    return found


def _read(exposure: Exposure, permission: str, call: Callable[[], Any], absent: str) -> Any:
    """`call()`'s answer; `ABSENT` when the setting does not exist (error code `absent`), `UNREAD`
    (noted in `exposure.unread`) when the key may not read it or the store does not keep it."""
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == absent:
            return ABSENT
        if code in _CANNOT_READ:
            exposure.unread.append(f"{permission} ({code})")
            return UNREAD
        raise


def bucket_exposure(client: Any, bucket: str) -> Exposure:
    """Read the bucket's public access block, policy and ACL with the stack's key; anything that
    lets the public in is a finding, whatever a filter in front of the store answers anonymously.
    Raises botocore's errors for anything but a missing or unreadable setting."""
    found = Exposure()
    block = _read(
        found,
        "s3:GetBucketPublicAccessBlock",
        lambda: client.get_public_access_block(Bucket=bucket),
        "NoSuchPublicAccessBlockConfiguration",
    )
    if block is ABSENT:
        found.findings.append("it has no public access block")
    elif block is not UNREAD:
        config = block.get("PublicAccessBlockConfiguration", {})
        off = [flag for flag in BLOCK_FLAGS if not config.get(flag)]
        if off:
            found.findings.append(f"its public access block has {', '.join(off)} off")
    policy = _read(
        found,
        "s3:GetBucketPolicy",
        lambda: client.get_bucket_policy(Bucket=bucket),
        "NoSuchBucketPolicy",
    )
    if policy not in (ABSENT, UNREAD):
        public = public_statements(policy.get("Policy") or "{}")
        if public:
            found.findings.append(f"its policy allows everyone ({', '.join(public)})")
    acl = _read(found, "s3:GetBucketAcl", lambda: client.get_bucket_acl(Bucket=bucket), "")
    for grant in acl.get("Grants", []) if isinstance(acl, dict) else []:
        who = PUBLIC_GROUPS.get(grant.get("Grantee", {}).get("URI", ""))
        if who:
            found.findings.append(f"its ACL grants {grant.get('Permission')} to {who}")
    return found
