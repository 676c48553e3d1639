"""The one place stack configuration is read and validated.

Every key is declared with a description in Pulumi.yaml. `load_stack_config()` validates them all
before any resource is created and raises `ConfigError` naming each bad key and its fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stacks.errors import ConfigError

NAMESPACE = "mentora"
PROJECT_ROOT = Path(__file__).resolve().parents[1]

_IDENT = r"^[a-z_][a-z0-9_]{0,62}$"
_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"

# What a user should set for each key, used in error messages.
_HINTS: dict[str, str] = {
    "target": "local or cloud",
    "postgresPort": "a free TCP port 1024-65535",
    "redisPort": "a free TCP port 1024-65535",
    "storagePort": "a free TCP port 1024-65535",
    "region": "an AWS region such as us-east-1",
    "bucketName": "an S3 bucket name: 3-63 chars of a-z 0-9 . -",
    "databaseName": "a lowercase SQL identifier such as mentora",
    "appUser": "a lowercase SQL identifier such as mentora_app",
    "logLevel": "debug, info, warn or error",
    "nodeEnv": "development, production or test",
    "appPort": "a free TCP port 1024-65535",
    "appCommand": "a command line; {python} and {port} are substituted",
    "appHealthPath": "a path starting with /, e.g. /api/health",
    "rateLimitChatPerMin": "a whole number >= 1",
}


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, validate_default=True
    )


class LocalSettings(_Model):
    """Settings of the embedded local backend: ports and where server data lives."""

    postgres_port: int = Field(54322, alias="postgresPort", ge=1024, le=65535)
    redis_port: int = Field(6390, alias="redisPort", ge=1024, le=65535)
    storage_port: int = Field(9090, alias="storagePort", ge=1024, le=65535)
    app_port: int = Field(3100, alias="appPort", ge=1024, le=65535)
    app_command: str = Field(
        "{python} -m uvicorn reference_app.main:app --host 127.0.0.1 --port {port}",
        alias="appCommand",
        min_length=1,
    )
    app_cwd: Path = Field(Path("."), alias="appCwd")
    app_health_path: str = Field("/api/health", alias="appHealthPath", pattern=r"^/\S*$")
    state_dir: Path = Field(Path(".pulumi-local/servers"), alias="stateDir")
    env_file: Path = Field(Path(".env.local"), alias="envFile")

    @field_validator("state_dir", "env_file", "app_cwd")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value if value.is_absolute() else PROJECT_ROOT / value

    @model_validator(mode="after")
    def _distinct_ports(self) -> LocalSettings:
        ports = [self.postgres_port, self.redis_port, self.storage_port]
        if len(set(ports)) != len(ports):
            raise ValueError(f"postgresPort, redisPort and storagePort must differ (got {ports})")
        return self


class StackConfig(_Model):
    """Validated configuration of one stack (local, dev or prod)."""

    stack: str
    target: Literal["local", "cloud"]
    region: str = Field("us-east-1", pattern=_REGION)
    bucket_name: str = Field("mentora-videos", alias="bucketName", pattern=_BUCKET)
    database_name: str = Field("mentora", alias="databaseName", pattern=_IDENT)
    app_user: str = Field("mentora_app", alias="appUser", pattern=_IDENT)
    log_level: Literal["debug", "info", "warn", "error"] = Field("debug", alias="logLevel")
    node_env: Literal["development", "production", "test"] = Field("development", alias="nodeEnv")
    rate_limit_chat_per_min: int = Field(20, alias="rateLimitChatPerMin", ge=1, le=100_000)
    local: LocalSettings | None = None


_LOCAL_KEYS = (
    "postgresPort",
    "redisPort",
    "storagePort",
    "appPort",
    "appCommand",
    "appCwd",
    "appHealthPath",
    "stateDir",
    "envFile",
)
_INT_KEYS = ("postgresPort", "redisPort", "storagePort", "appPort", "rateLimitChatPerMin")
_TOP_KEYS = (
    "target",
    "region",
    "bucketName",
    "databaseName",
    "appUser",
    "logLevel",
    "nodeEnv",
    "rateLimitChatPerMin",
)


def _problem(stack: str, key: str, value: Any, msg: str) -> str:
    hint = _HINTS.get(key, "a valid value")
    shown = "<unset>" if value is None else repr(value)
    return (
        f"mentora:{key}={shown}: {msg}; set it to {hint}: "
        f"pulumi config set mentora:{key} <value> -s {stack} (or edit Pulumi.{stack}.yaml)"
    )


def parse_stack_config(stack: str, raw: dict[str, str]) -> StackConfig:
    """Validate raw string config (key without namespace -> value) into a `StackConfig`.

    >>> parse_stack_config("local", {"target": "local", "redisPort": "6390"}).local.redis_port
    6390
    """
    problems: list[str] = []
    values: dict[str, Any] = {k: raw[k] for k in _TOP_KEYS if k in raw}
    if "target" not in values:
        problems.append(_problem(stack, "target", None, "is required"))
    local: dict[str, Any] = {}
    for key in (*_LOCAL_KEYS, "rateLimitChatPerMin"):
        if key not in raw:
            continue
        if key in _INT_KEYS and not re.fullmatch(r"\d+", raw[key].strip()):
            problems.append(_problem(stack, key, raw[key], "is not a whole number"))
            values.pop(key, None)
            continue
        if key in _LOCAL_KEYS:
            local[key] = raw[key]
    if problems:
        raise ConfigError(stack, problems)
    if values.get("target") == "local":
        values["local"] = local
    try:
        return StackConfig(stack=stack, **values)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(part) for part in err["loc"]]
            msg = err["msg"].removeprefix("Value error, ")
            if not loc or loc[-1] == "local":  # a cross-field rule of the local settings
                problems.append(
                    f"mentora:postgresPort/redisPort/storagePort/appPort: {msg}; "
                    f"pick distinct free ports in Pulumi.{stack}.yaml"
                )
                continue
            problems.append(_problem(stack, loc[-1], raw.get(loc[-1]), msg))
        raise ConfigError(stack, problems) from None


def load_stack_config() -> StackConfig:
    """Read every `mentora:*` key of the current stack and validate it (`parse_stack_config`)."""
    cfg = pulumi.Config(NAMESPACE)
    keys = dict.fromkeys((*_TOP_KEYS, *_LOCAL_KEYS))
    raw = {k: v for k in keys if (v := cfg.get(k)) is not None}
    return parse_stack_config(pulumi.get_stack(), raw)
