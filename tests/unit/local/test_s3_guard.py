"""The S3 store's guard (components/local/s3_server.py `_guard`): while the provider's bootstrap
IAM calls are pending, no other client's request reaches moto (moto lets the first N requests
through unchecked, whoever sends them: the backup archiver retrying with its old key used them
up, and the store's start failed with InvalidClientTokenId)."""

from __future__ import annotations

from typing import Any

from components.local.s3_process import _guard


def call(app: Any, auth: str, path: str = "/") -> str:
    answered: list[str] = []
    environ = {"PATH_INFO": path, "QUERY_STRING": ""}
    if auth:
        environ["HTTP_AUTHORIZATION"] = auth
    app(environ, lambda status, headers: answered.append(status))
    return answered[0] if answered else "passed"


def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    return [b"moto"]


BOOTSTRAP = "AWS4-HMAC-SHA256 Credential=bootstrap/20261204/us-east-1/iam/aws4_request, ..."
OTHER = "AWS4-HMAC-SHA256 Credential=AKIAOLDKEY/20261204/us-east-1/s3/aws4_request, ..."


def test_only_bootstrap_calls_pass_until_they_are_made() -> None:
    guarded = _guard(moto, bootstrap_calls=2)
    assert call(guarded, OTHER) == "503 Slow Down"  # an old key, retrying: not let through
    assert call(guarded, BOOTSTRAP) == "passed"
    assert call(guarded, OTHER) == "503 Slow Down"
    assert call(guarded, BOOTSTRAP) == "passed"
    assert call(guarded, OTHER) == "passed"  # from now on moto checks every signature
    assert call(guarded, "") == "403 Forbidden"
    assert call(guarded, OTHER, "/moto-api/reset") == "403 Forbidden"
