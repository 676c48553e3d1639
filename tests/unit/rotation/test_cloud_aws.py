"""AWS IAM key rotation against IAM's published contract: botocore's `Stubber` checks every
request's operation and parameters against the IAM service model that ships with botocore
(botocore/data/iam/2010-05-08/service-2.json: ListAccessKeys, CreateAccessKey, UpdateAccessKey,
DeleteAccessKey) and answers with the model's response shapes."""

from __future__ import annotations

import datetime

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]

from rotation import cloud_aws

USER, OLD, NEW, LEFT = "mentora-dev-app", "AKIAOLDOLDOLDOLD0001", "AKIANEWNEWNEWNEW0002", "AKIALEFT"
NOW = datetime.datetime(2026, 12, 4, tzinfo=datetime.UTC)


def _iam() -> tuple[object, Stubber]:
    iam = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    return iam, Stubber(iam)


def _meta(key_id: str, status: str) -> dict[str, object]:
    return {"UserName": USER, "AccessKeyId": key_id + "0" * (20 - len(key_id)), "Status": status}


def _created() -> dict[str, object]:
    key = {"UserName": USER, "AccessKeyId": NEW, "Status": "Active", "SecretAccessKey": "s" * 40}
    return {"AccessKey": {**key, "CreateDate": NOW}}


def test_begin_creates_the_second_key_and_finish_deactivates_then_deletes_the_old() -> None:
    iam, stub = _iam()
    stub.add_response(
        "list_access_keys", {"AccessKeyMetadata": [_meta(OLD, "Active")]}, {"UserName": USER}
    )
    stub.add_response("create_access_key", _created(), {"UserName": USER})
    stub.add_response(
        "update_access_key", {}, {"UserName": USER, "AccessKeyId": OLD, "Status": "Inactive"}
    )
    stub.add_response("delete_access_key", {}, {"UserName": USER, "AccessKeyId": OLD})
    with stub:
        new = cloud_aws.begin(iam, USER, OLD)
        cloud_aws.finish(iam, USER, OLD)
        stub.assert_no_pending_responses()
    assert new.access_key_id == NEW


def test_an_inactive_leftover_is_deleted_first_an_active_one_refused() -> None:
    left = _meta(LEFT, "Inactive")
    iam, stub = _iam()
    stub.add_response(
        "list_access_keys", {"AccessKeyMetadata": [_meta(OLD, "Active"), left]}, {"UserName": USER}
    )
    stub.add_response(
        "delete_access_key", {}, {"UserName": USER, "AccessKeyId": left["AccessKeyId"]}
    )
    stub.add_response("create_access_key", _created(), {"UserName": USER})
    with stub:
        cloud_aws.begin(iam, USER, OLD)
        stub.assert_no_pending_responses()
    iam, stub = _iam()
    busy = [_meta(OLD, "Active"), _meta(LEFT, "Active")]
    stub.add_response("list_access_keys", {"AccessKeyMetadata": busy}, {"UserName": USER})
    with stub, pytest.raises(cloud_aws.KeyLimit, match="two active access keys"):
        cloud_aws.begin(iam, USER, OLD)
