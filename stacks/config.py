"""The one place stack configuration is read and validated.

Every key is declared with a description in Pulumi.yaml. `load_stack_config()` validates them all
before any resource is created and raises `ConfigError` naming each bad key and its fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import pulumi
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator

from stacks.cloud_settings import CLOUD_REGIONS, CLOUD_SECRETS, CloudSettings, secret_problems
from stacks.errors import ConfigError
from stacks.model import Model

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
    "supabaseOrganization": "your Supabase organization slug (dashboard URL /org/<slug>)",
    "supabaseInstanceSize": "nano, micro, small, medium, large, xlarge, 2xlarge, ...",
    "supabaseAllowedCidrs": "comma-separated networks like 203.0.113.0/24 (empty = anywhere)",
    "supabasePitrDays": "0 (off), 7, 14 or 28",
    "upstashEmail": "the e-mail of your Upstash account",
    "vercelTeam": "your Vercel team slug or id (empty for a personal account)",
    "vercelProject": "a Vercel project name such as mentora",
    "gitRepository": "the app's repository as owner/name",
    "gitProductionBranch": "the branch Vercel deploys to production, e.g. main",
    "domains": "comma-separated host names like mentora.app,www.mentora.app",
    "appUrl": "the app's public https:// origin (NEXT_PUBLIC_APP_URL)",
    "hardened": "true for prod (protect state), false otherwise",
}


class LocalSettings(Model):
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


class StackConfig(Model):
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
    cloud: CloudSettings | None = None
    secrets: dict[str, SecretStr] = Field(default_factory=dict, repr=False)
    """Cloud secrets by config key (values masked in any repr)."""

    @model_validator(mode="after")
    def _cloud_rules(self) -> StackConfig:
        if self.target != "cloud":
            return self
        if self.region not in CLOUD_REGIONS:
            raise ValueError(
                f"mentora:region={self.region!r}: is not a region where Supabase, Upstash and S3 "
                f"all run; set it to one of {', '.join(CLOUD_REGIONS)}: "
                f"pulumi config set mentora:region <value> -s {self.stack}"
            )
        cloud = self.cloud
        if (
            cloud is not None
            and cloud.supabase_pitr_days
            and cloud.supabase_instance_size == "nano"
        ):
            raise ValueError(
                "mentora:supabasePitrDays: point-in-time recovery needs a paid instance size "
                f"(not nano); run: pulumi config set mentora:supabasePitrDays 0 -s {self.stack}, "
                "or pick a paid mentora:supabaseInstanceSize"
            )
        if self.stack == "prod" and cloud is not None and not cloud.hardened:
            raise ValueError(
                "mentora:hardened=False: the prod stack must be hardened (protected state, "
                "versioned bucket); run: pulumi config set mentora:hardened true -s prod"
            )
        return self


def _config_keys(model: type[Model]) -> tuple[str, ...]:
    """The Pulumi config keys (field aliases) a settings model reads."""
    return tuple(field.alias or name for name, field in model.model_fields.items())


_LOCAL_KEYS = _config_keys(LocalSettings)
_CLOUD_KEYS = _config_keys(CloudSettings)
_INT_KEYS = tuple(
    field.alias or name
    for model in (StackConfig, LocalSettings, CloudSettings)
    for name, field in model.model_fields.items()
    if field.annotation is int
)
# The stack's own top-level keys: every field but the stack name and the nested sections.
_TOP_KEYS = tuple(
    key for key in _config_keys(StackConfig) if key not in ("stack", "local", "cloud", "secrets")
)


def _problem(stack: str, key: str, value: Any, msg: str) -> str:
    hint = _HINTS.get(key, "a valid value")
    shown = "<unset>" if value in (None, "") else repr(value)
    return (
        f"mentora:{key}={shown}: {msg}; set it to {hint}: "
        f"pulumi config set mentora:{key} <value> -s {stack} (or edit Pulumi.{stack}.yaml)"
    )


def _section(stack: str, raw: dict[str, str], keys: tuple[str, ...], problems: list[str]) -> dict:
    """The keys of one settings section that are set; whole-number keys checked first."""
    section: dict[str, Any] = {}
    for key in keys:
        if key not in raw:
            continue
        if key in _INT_KEYS and not re.fullmatch(r"\d+", raw[key].strip()):
            problems.append(_problem(stack, key, raw[key], "is not a whole number"))
            continue
        if key in _CLOUD_KEYS and raw[key] == "":  # Pulumi.yaml's "" default means unset
            continue
        section[key] = raw[key]
    return section


def parse_stack_config(
    stack: str,
    raw: dict[str, str],
    secrets: dict[str, str | None] | None = None,
    encrypted: dict[str, bool] | None = None,
) -> StackConfig:
    """Validate raw string config (key without namespace -> value) into a `StackConfig`.

    `secrets` holds the cloud secret keys' values and `encrypted` whether each is stored encrypted;
    both only matter for cloud stacks. Every problem is collected into one `ConfigError`.

    >>> parse_stack_config("local", {"target": "local", "redisPort": "6390"}).local.redis_port
    6390
    """
    problems: list[str] = []
    values = _section(stack, raw, _TOP_KEYS, problems)
    if "target" not in values:
        problems.append(_problem(stack, "target", None, "is required"))
    if values.get("target") == "local":
        values["local"] = _section(stack, raw, _LOCAL_KEYS, problems)
    elif values.get("target") == "cloud":
        values["cloud"] = _section(stack, raw, _CLOUD_KEYS, problems)
        problems += secret_problems(stack, secrets or {}, encrypted or {})
        values["secrets"] = {k: v for k, v in (secrets or {}).items() if v}
    try:
        config = StackConfig(stack=stack, **values)
    except ValidationError as exc:
        problems += [_validation_problem(stack, raw, err) for err in exc.errors()]
        raise ConfigError(stack, problems) from None
    if problems:
        raise ConfigError(stack, problems)
    return config


def _validation_problem(stack: str, raw: dict[str, str], err: Any) -> str:
    loc = [str(part) for part in err["loc"]]
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "is required for cloud stacks"
    if msg.startswith("mentora:"):  # a cross-field rule that already names its key and fix
        return msg
    if not loc or loc[-1] == "local":  # a cross-field rule of the local settings
        return (
            f"mentora:postgresPort/redisPort/storagePort/appPort: {msg}; "
            f"pick distinct free ports in Pulumi.{stack}.yaml"
        )
    if loc[-1].isdigit():  # an item of a list setting (supabaseAllowedCidrs.0)
        loc = loc[:-1]
    return _problem(stack, loc[-1], raw.get(loc[-1]), msg)


def load_stack_config() -> StackConfig:
    """Read every `mentora:*` key of the current stack and validate it (`parse_stack_config`).

    Secrets are read raw (never through `Config.get`, which would warn with the key) only to check
    that they are present, encrypted and well formed; the program wraps them in `Output.secret`.
    """
    cfg = pulumi.Config(NAMESPACE)
    keys = dict.fromkeys((*_TOP_KEYS, *_LOCAL_KEYS, *_CLOUD_KEYS))
    raw = {k: v for k in keys if (v := cfg.get(k)) is not None}
    secrets = {k: pulumi.runtime.get_config(f"{NAMESPACE}:{k}") for k in CLOUD_SECRETS}
    encrypted = {k: pulumi.runtime.is_config_secret(f"{NAMESPACE}:{k}") for k in CLOUD_SECRETS}
    return parse_stack_config(pulumi.get_stack(), raw, secrets, encrypted)
