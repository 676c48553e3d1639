"""Latent cloud-program items of issue 20 (item 8).

S3 lifecycle rules: terraform-provider-aws (bridged by pulumi-aws 7.x) requires exactly one of
`filter`'s `and`, `object_size_greater_than`, `object_size_less_than`, `prefix`, `tag`; an empty
`filter: {}` draws "Invalid Attribute Combination ... This will be an error in a future
version". `prefix` "Defaults to an empty string" (pulumi_aws s3 `BucketLifecycleConfiguration
RuleFilterArgs`), so `{"prefix": ""}` applies the rule to every object, as `{}` did.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from tests.unit.cloud_program import CloudMocks
from tests.unit.test_program_cloud import run_program

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
FILTER_KEYS = {"and", "objectSizeGreaterThan", "objectSizeLessThan", "prefix", "tag"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_every_lifecycle_rule_names_exactly_one_filter_attribute(stack: str) -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        (lifecycle,) = [d for d in mocks.declared if d.typ == LIFECYCLE]
        rules = lifecycle.inputs["rules"]
        assert rules
        for rule in rules:
            assert len(FILTER_KEYS & set(rule["filter"])) == 1, rule["id"]
            assert rule["filter"].get("prefix") == "", rule["id"]  # every object, as before

    return run_program(stack, check)
