"""Secrets only in sensitive Vercel env vars; nothing secret in NEXT_PUBLIC_*."""

from __future__ import annotations

import base64
import json

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy.env_vars import (
    ENV_VAR_TYPE,
    is_secret_like_key,
    secret_value_reason,
    validate_public_env_var,
    validate_secret_env_var,
)


def jwt(role: str) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part({'iss': 'supabase', 'role': role})}.c2lnbmF0dXJl"


def var(key: str, value: object = "v", sensitive: object = False) -> dict[str, object]:
    return {"projectId": "prj_1", "key": key, "value": value, "sensitive": sensitive}


@pytest.mark.parametrize(
    "key",
    [
        "SUPABASE_SERVICE_ROLE_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "INNGEST_SIGNING_KEY",
        "GITHUB_TOKEN",
        "DB_PASSWORD",
        "SENTRY_DSN",
        "DATABASE_URL",
        "REDIS_URL",
        "UPSTASH_REDIS_URL",
        "OPENAI_APIKEY",
    ],
)
def test_secret_like_key_must_be_sensitive(key: str) -> None:
    [message] = validate_secret_env_var(ENV_VAR_TYPE, f"{key.lower()}-env", var(key))
    assert f"'{key.lower()}-env'" in message and key in message and "sensitive=True" in message
    assert validate_secret_env_var(ENV_VAR_TYPE, "e", var(key, sensitive=True)) == []


def test_plain_keys_and_other_types_are_ignored() -> None:
    for key in ("APP_URL", "NODE_ENV", "AWS_REGION", "S3_BUCKET"):
        assert not is_secret_like_key(key)
        assert validate_secret_env_var(ENV_VAR_TYPE, "e", var(key)) == []
    assert validate_secret_env_var("aws:s3/bucket:Bucket", "b", var("API_KEY")) == []


def test_next_public_keys_are_left_to_the_public_policy() -> None:
    assert validate_secret_env_var(ENV_VAR_TYPE, "e", var("NEXT_PUBLIC_SUPABASE_ANON_KEY")) == []


def test_public_var_with_public_values_passes() -> None:
    for key, value in [
        ("NEXT_PUBLIC_SUPABASE_URL", "https://abc.supabase.co"),
        ("NEXT_PUBLIC_SUPABASE_ANON_KEY", jwt("anon")),
        ("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "pk_live_123"),
        ("NEXT_PUBLIC_SENTRY_DSN", "https://abc@o1.ingest.sentry.io/1"),
    ]:
        assert validate_public_env_var(ENV_VAR_TYPE, "e", var(key, value)) == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (jwt("service_role"), "service_role JWT"),
        ("sk-proj-abc", "'sk-'"),
        ("sk-ant-api03-abc", "'sk-ant-'"),
        ("whsec_abc", "'whsec_'"),
        ("sig_abc", "'sig_'"),
        ("evt_abc", "'evt_'"),
        ("postgresql://postgres:pw@db.abc.supabase.co:5432/postgres", "URL with a password"),
    ],
)
def test_secret_in_next_public_var_is_rejected(value: str, reason: str) -> None:
    [message] = validate_public_env_var(ENV_VAR_TYPE, "pub-env", var("NEXT_PUBLIC_X", value))
    assert "'pub-env'" in message and "NEXT_PUBLIC_X" in message and reason in message
    assert "Fix:" in message


def test_sensitive_next_public_var_is_rejected() -> None:
    [message] = validate_public_env_var(
        ENV_VAR_TYPE, "pub-env", var("NEXT_PUBLIC_APP_URL", "https://mentora.app", sensitive=True)
    )
    assert "marked sensitive" in message


def test_write_only_value_is_checked_and_unknown_value_is_skipped() -> None:
    props = {"key": "NEXT_PUBLIC_X", "valueWo": "sk-abc", "sensitive": False}
    assert validate_public_env_var(ENV_VAR_TYPE, "e", props)
    unknown = unknown_checking_proxy(var("NEXT_PUBLIC_X", UNKNOWN_STRING_VALUE))
    assert validate_public_env_var(ENV_VAR_TYPE, "e", unknown) == []


def test_secret_value_reason_of_non_secrets() -> None:
    for value in ("", "hello", "a.b.c", "https://example.com", "rediss://host:6379"):
        assert secret_value_reason(value) is None
