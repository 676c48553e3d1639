"""The local bucket's managed settings: public access block, bucket policy, default encryption.

What the S3 store provisions at every start, what `read` reports of them (in words, never a
secret) and how `update` puts them back in place after an out-of-band change (`drift`).
"""

from __future__ import annotations

import json
from typing import Any

Managed = dict[str, str]

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
# What `observe` reports when the bucket is as the stack made it.
BUCKET_MANAGED = {
    "public access block": "all four on",
    "bucket policy": "none",
    "encryption": "AES256",
}


def _error_code(call: Any, **kwargs: Any) -> tuple[Any, str]:
    """`call(**kwargs)`'s answer, or None and the S3 error code it answered."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    try:
        return call(**kwargs), ""
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code.startswith("NoSuch") or code.startswith("ServerSideEncryptionConfigurationNot"):
            return None, code
        raise


def bucket_facts(s3: Any, bucket: str) -> Managed:
    """The bucket's managed settings in `BUCKET_MANAGED`'s words (no secret is ever among them)."""
    block, _ = _error_code(s3.get_public_access_block, Bucket=bucket)
    flags = (block or {}).get("PublicAccessBlockConfiguration", {})
    off = [name for name in PUBLIC_ACCESS_BLOCK if not flags.get(name)]
    pab = "none" if block is None else "all four on" if not off else "off: " + ",".join(off)
    policy, _ = _error_code(s3.get_bucket_policy, Bucket=bucket)
    if policy is None:
        policy_fact = "none"
    else:
        statements = json.loads(policy.get("Policy") or "{}").get("Statement") or []
        public = [st for st in statements if st.get("Principal") in ("*", {"AWS": "*"})]
        policy_fact = f"{len(statements)} statement(s), {len(public)} public (Principal *)"
    sse, _ = _error_code(s3.get_bucket_encryption, Bucket=bucket)
    rules = (sse or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules") or []
    algorithms = [
        r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm", "?") for r in rules
    ]
    return {
        "public access block": pab,
        "bucket policy": policy_fact,
        "encryption": ",".join(algorithms) or "none",
    }


def restore_bucket(s3: Any, bucket: str, which: Any) -> None:
    """The bucket's managed settings as the stack makes them: public access blocked, no
    bucket policy (the app's access is its IAM user policy), SSE-S3 by default."""
    if "bucket policy" in which:
        s3.delete_bucket_policy(Bucket=bucket)
    if "public access block" in which:
        s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK
        )
    if "encryption" in which:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=ENCRYPTION)
