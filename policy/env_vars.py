"""Vercel env vars: secrets only in sensitive variables, nothing secret in NEXT_PUBLIC_*.

The value of a `ProjectEnvironmentVariable` cannot be checked for secretness here: pulumi_policy
1.21 unwraps secrets before validation (it only keeps the marker for remediations), and the
pulumiverse-vercel SDK wraps every `value` in `Output.secret` anyway. So "secret value" is
enforced through the `sensitive` flag, and NEXT_PUBLIC_* values are checked for what they contain.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Final
from urllib.parse import urlsplit

from policy.props import UNKNOWN, Props, is_true, prop

ENV_VAR_TYPE: Final = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
PUBLIC_PREFIX: Final = "NEXT_PUBLIC_"
SECRET_WORDS: Final = frozenset({"KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "DSN"})
SECRET_SUFFIXES: Final = ("KEY", "SECRET", "TOKEN", "PASSWORD")
SECRET_NAMES: Final = ("DATABASE_URL", "REDIS_URL")
# OpenAI / Anthropic, Stripe secret + restricted + webhook, Inngest, Supabase secret, GitHub, Slack.
SECRET_PREFIXES: Final = (
    "sk-",
    "sk-ant-",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "rk_test_",
    "whsec_",
    "sig_",
    "evt_",
    "signkey-",
    "sb_secret_",
    "ghp_",
    "github_pat_",
    "xoxb-",
)
_JWT: Final = re.compile(r"^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$")


def env_key(props: Props) -> str:
    """The variable name of an env var resource (`""` when unknown)."""
    key = prop(props, "key")
    return key if isinstance(key, str) else ""


def env_values(props: Props) -> list[str]:
    """The known plaintext values of an env var resource (`value` and write-only `valueWo`)."""
    values = (prop(props, "value"), prop(props, "valueWo"))
    return [v for v in values if isinstance(v, str)]


def is_secret_like_key(key: str) -> bool:
    """Whether an env var name says it holds a secret.

    >>> is_secret_like_key("SUPABASE_SERVICE_ROLE_KEY"), is_secret_like_key("APP_URL")
    (True, False)
    """
    upper = key.upper()
    if any(upper == n or upper.endswith(f"_{n}") for n in SECRET_NAMES):
        return True
    words = [w for w in re.split(r"[^A-Z0-9]+", upper) if w]
    return any(w in SECRET_WORDS or w.endswith(SECRET_SUFFIXES) for w in words)


def _jwt_role(value: str) -> Any:
    match = _JWT.match(value)
    if match is None:
        return None
    payload = match.group(1)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return None
    return claims.get("role") if isinstance(claims, dict) else None


def secret_value_reason(value: str) -> str | None:
    """Why `value` looks like a secret (`None` if it does not).

    >>> secret_value_reason("sk-ant-api03-abc")
    "starts with 'sk-ant-'"
    """
    text = value.strip()
    for prefix in sorted(SECRET_PREFIXES, key=len, reverse=True):
        if text.startswith(prefix):
            return f"starts with '{prefix}'"
    if _jwt_role(text) == "service_role":
        return "is a Supabase service_role JWT"
    try:
        password = urlsplit(text).password if "://" in text else None
    except ValueError:
        password = None
    if password:
        return "is a URL with a password"
    return None


def validate_secret_env_var(resource_type: str, name: str, props: Props) -> list[str]:
    """Enforce `sensitive=True` on every Vercel env var whose name is secret-like (KEY, SECRET,
    TOKEN, PASSWORD, DSN, DATABASE_URL, REDIS_URL); NEXT_PUBLIC_* names are left to
    `validate_public_env_var`."""
    key = env_key(props)
    if resource_type != ENV_VAR_TYPE or not key or key.upper().startswith(PUBLIC_PREFIX):
        return []
    sensitive = prop(props, "sensitive")
    if not is_secret_like_key(key) or sensitive is UNKNOWN or is_true(sensitive):
        return []
    return [
        f"Vercel env var '{name}' ({key}) holds a secret but is not sensitive, so its value is "
        "readable in the dashboard and API. Fix: set sensitive=True and pass the value from a "
        "secret (config.require_secret or a secret output)."
    ]


def validate_public_env_var(resource_type: str, name: str, props: Props) -> list[str]:
    """Enforce that NEXT_PUBLIC_* env vars (inlined into the browser bundle) are neither
    sensitive nor hold a value that looks like a secret key."""
    key = env_key(props)
    if resource_type != ENV_VAR_TYPE or not key.upper().startswith(PUBLIC_PREFIX):
        return []
    violations: list[str] = []
    if is_true(prop(props, "sensitive")):
        violations.append(
            f"Vercel env var '{name}' ({key}) is public (shipped to every browser) but marked "
            "sensitive, which hides nothing. Fix: if it is a secret, rename it without "
            "NEXT_PUBLIC_ and use it server-side only; otherwise set sensitive=False."
        )
    for value in env_values(props):
        reason = secret_value_reason(value)
        if reason:
            violations.append(
                f"Vercel env var '{name}' ({key}) is public (shipped to every browser) but its "
                f"value {reason}. Fix: rotate that secret now, and serve it from a server-only "
                "variable without the NEXT_PUBLIC_ prefix (sensitive=True)."
            )
    return violations
