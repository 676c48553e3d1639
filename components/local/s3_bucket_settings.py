"""The local bucket's managed settings: public access block, policy, ACL, default encryption.

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
    "acl": "no public grant",
}
# S3's predefined groups: a grant to either makes the bucket public (AWS S3 ACL overview).
PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "everyone",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "any AWS account",
}


def _answer(call: Any, **kwargs: Any) -> Any:
    """`call(**kwargs)`'s answer; None when S3 says there is no such configuration."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    try:
        return call(**kwargs)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code.startswith("NoSuch") or code.startswith("ServerSideEncryptionConfigurationNot"):
            return None
        raise


def bucket_facts(s3: Any, bucket: str) -> Managed:
    """The bucket's managed settings in `BUCKET_MANAGED`'s words (no secret is ever among them)."""
    block = _answer(s3.get_public_access_block, Bucket=bucket)
    flags = (block or {}).get("PublicAccessBlockConfiguration", {})
    off = [name for name in PUBLIC_ACCESS_BLOCK if not flags.get(name)]
    pab = "none" if block is None else "all four on" if not off else "off: " + ",".join(off)
    policy = _answer(s3.get_bucket_policy, Bucket=bucket)
    if policy is None:
        policy_fact = "none"
    else:
        statements = json.loads(policy.get("Policy") or "{}").get("Statement") or []
        public = [st for st in statements if st.get("Principal") in ("*", {"AWS": "*"})]
        policy_fact = f"{len(statements)} statement(s), {len(public)} public (Principal *)"
    sse = _answer(s3.get_bucket_encryption, Bucket=bucket)
    rules = (sse or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules") or []
    algorithms = [
        r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm", "?") for r in rules
    ]
    grants = s3.get_bucket_acl(Bucket=bucket).get("Grants") or []
    public_grants = sorted(
        f"{g.get('Permission', '?')} to {PUBLIC_GROUPS[g['Grantee']['URI']]}"
        for g in grants
        if g.get("Grantee", {}).get("URI") in PUBLIC_GROUPS
    )
    return {
        "public access block": pab,
        "bucket policy": policy_fact,
        "encryption": ",".join(algorithms) or "none",
        "acl": ", ".join(public_grants) or "no public grant",
    }


def restore_bucket(s3: Any, bucket: str, which: Any) -> None:
    """The bucket's managed settings as the stack makes them: public access blocked, no
    bucket policy (the app's access is its IAM user policy), a private ACL, SSE-S3 by default."""
    if "bucket policy" in which:
        s3.delete_bucket_policy(Bucket=bucket)
    if "acl" in which:
        s3.put_bucket_acl(Bucket=bucket, ACL="private")
    if "public access block" in which:
        s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK
        )
    if "encryption" in which:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=ENCRYPTION)
