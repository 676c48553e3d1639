"""Every S3 bucket has server-side encryption configured explicitly (AES256 or KMS)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from policy.props import UNKNOWN, StackResource, items, prop
from policy.storage import BUCKET_TYPES, targets_bucket

SSE_TYPES: Final = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
# aws:kms:dsse is KMS with two layers of encryption: stronger than aws:kms, so it passes too.
ALLOWED_ALGORITHMS: Final = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})


def sse_algorithms(props: object) -> list[object]:
    """Return the `sseAlgorithm` of each rule of a BucketServerSideEncryptionConfiguration.

    >>> rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    >>> sse_algorithms({"rules": [rule]})
    ['AES256']
    """
    return [
        prop(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        for rule in items(prop(props, "rules"))
    ]


def _encrypts(config: StackResource) -> bool:
    algorithms = sse_algorithms(config.props)
    # Unknown during preview: `pulumi up` checks the real value again.
    return any(a is UNKNOWN or a in ALLOWED_ALGORITHMS for a in algorithms)


def check_buckets_encrypted(resources: Sequence[StackResource]) -> list[tuple[str, str]]:
    """Enforce that every S3 bucket has a BucketServerSideEncryptionConfiguration using AES256 or
    aws:kms; returns (message, urn) pairs.

    The deprecated inline `server_side_encryption_configuration` of the bucket does not count: AWS
    reports SSE-S3 there for every bucket after creation, so it would make this check vacuous.
    """
    configs = [r for r in resources if r.resource_type in SSE_TYPES]
    violations: list[tuple[str, str]] = []
    for bucket in resources:
        if bucket.resource_type not in BUCKET_TYPES:
            continue
        mine = [c for c in configs if targets_bucket(c, bucket)]
        if any(_encrypts(c) for c in mine):
            continue
        found = sorted({str(a) for c in mine for a in sse_algorithms(c.props)})
        problem = (
            f"only uses sse_algorithm {', '.join(found)}"
            if found
            else "has no BucketServerSideEncryptionConfiguration"
        )
        violations.append(
            (
                f"S3 bucket '{bucket.name}' {problem}. Fix: add "
                f'aws.s3.BucketServerSideEncryptionConfiguration("{bucket.name}-encryption", '
                'bucket=<bucket>.id, rules=[{"apply_server_side_encryption_by_default": '
                '{"sse_algorithm": "AES256"}}]) (or "aws:kms" with a KMS key).',
                bucket.urn,
            )
        )
    return violations
