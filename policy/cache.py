"""Redis in the cloud is TLS-only: Upstash databases with `tls`, `rediss://` URLs in env vars."""

from __future__ import annotations

from typing import Final

from policy.env_vars import ENV_VAR_TYPE, env_key, env_values
from policy.props import UNKNOWN, Props, is_true, prop
from policy.stackinfo import is_cloud

REDIS_DATABASE_TYPE: Final = "upstash:index/redisDatabase:RedisDatabase"


def validate_redis_tls(resource_type: str, name: str, props: Props) -> list[str]:
    """Enforce `tls=True` on every Upstash RedisDatabase."""
    if resource_type != REDIS_DATABASE_TYPE:
        return []
    tls = prop(props, "tls")
    if tls is UNKNOWN or is_true(tls):
        return []
    return [
        f"Upstash RedisDatabase '{name}' has tls={tls!r}: Redis AUTH and data would cross the "
        "internet in clear text. Fix: set tls=True and connect with rediss://."
    ]


def validate_redis_url_tls(resource_type: str, name: str, props: Props, *, stack: str) -> list[str]:
    """Enforce that on a cloud stack no env var (REDIS_URL or any other) holds a plain
    `redis://` URL; cloud clients must use `rediss://`. The local stack may use redis://."""
    if resource_type != ENV_VAR_TYPE or not is_cloud(stack):
        return []
    key = env_key(props) or "<unknown key>"
    if not any(v.strip().lower().startswith("redis://") for v in env_values(props)):
        return []
    where = f"stack '{stack}'" if stack else "an unidentified stack (treated as cloud)"
    return [
        f"Vercel env var '{name}' ({key}) on {where} is a plain redis:// URL (no TLS). "
        "Fix: use the rediss:// URL (Upstash: rediss://default:<password>@<endpoint>:<port>)."
    ]
