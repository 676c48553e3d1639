"""Redis is TLS-only in the cloud."""

from __future__ import annotations

from policy.cache import REDIS_DATABASE_TYPE, validate_redis_tls, validate_redis_url_tls
from policy.env_vars import ENV_VAR_TYPE

UPSTASH = {"databaseName": "mentora-prod", "region": "global", "primaryRegion": "us-east-1"}


def test_non_tls_upstash_redis_is_rejected() -> None:
    for props in ({**UPSTASH, "tls": False}, UPSTASH):
        [message] = validate_redis_tls(REDIS_DATABASE_TYPE, "mentora-prod-cache", props)
        assert "'mentora-prod-cache'" in message and "tls=True" in message


def test_tls_upstash_redis_passes() -> None:
    assert validate_redis_tls(REDIS_DATABASE_TYPE, "cache", {**UPSTASH, "tls": True}) == []
    assert validate_redis_tls(ENV_VAR_TYPE, "e", {"tls": False}) == []


def redis_url(value: str) -> dict[str, object]:
    return {"key": "REDIS_URL", "value": value, "sensitive": True}


def test_plain_redis_url_on_cloud_stack_is_rejected() -> None:
    props = redis_url("redis://default:pw@mentora.upstash.io:6379")
    for stack in ("prod", "dev"):
        [message] = validate_redis_url_tls(ENV_VAR_TYPE, "redis-url", props, stack=stack)
        assert "'redis-url'" in message and f"stack '{stack}'" in message and "rediss://" in message


def test_rediss_url_and_local_stack_pass() -> None:
    good = redis_url("rediss://default:pw@mentora.upstash.io:6379")
    assert validate_redis_url_tls(ENV_VAR_TYPE, "redis-url", good, stack="prod") == []
    plain = redis_url("redis://default:pw@127.0.0.1:6390")
    assert validate_redis_url_tls(ENV_VAR_TYPE, "redis-url", plain, stack="local") == []
    assert validate_redis_url_tls(REDIS_DATABASE_TYPE, "db", plain, stack="prod") == []
