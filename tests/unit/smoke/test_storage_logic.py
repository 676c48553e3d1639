"""The anonymous-access verdicts of the storage checks: only 401/403 proves the bucket private."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from smoke.clients.s3 import DENIED, anonymous_answer, verdict


def denied(status: int) -> None:
    error = {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    raise ClientError(error, "ListObjectsV2")


def test_a_refusal_is_denied() -> None:
    assert anonymous_answer(lambda: denied(403)) in DENIED


def test_a_success_is_an_allowed_read() -> None:
    status = anonymous_answer(lambda: {"ResponseMetadata": {"HTTPStatusCode": 200}})
    assert status not in DENIED
    assert verdict(status) == "answered 200: the bucket is public"


@pytest.mark.parametrize(
    ("status", "text"),
    [(500, "the store erred instead of refusing"), (404, "answered 404, not 403")],
)
def test_other_errors_do_not_prove_privacy(status: int, text: str) -> None:
    assert anonymous_answer(lambda: denied(status)) not in DENIED
    assert text in verdict(status)
