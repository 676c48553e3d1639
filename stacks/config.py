"""The one place stack configuration is read and validated.

Every key is a `setting(...)` of a settings model (description, fix hint, constraints), and is
declared the same way in Pulumi.yaml (a unit test compares them). `load_stack_config()` validates
every key before any resource is created and raises `ConfigError` naming each bad key and its fix.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

import pulumi
from pydantic import Field, SecretStr, ValidationError, field_validator

from stacks.cloud_settings import CLOUD_SECRETS, CloudSettings, secret_problems
from stacks.contract import Target
from stacks.errors import ConfigError
from stacks.model import Model
from stacks.rules import cross_field_problems
from stacks.settings import NAMESPACE, Problem, hint_of, keys_of, setting

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS_DIR = PROJECT_ROOT / "supabase" / "migrations"

_IDENT = r"^[a-z_][a-z0-9_]{0,62}$"
_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"
_PORT_HINT = "a free TCP port 1024-65535"


def _port(default: int, key: str, description: str) -> Any:
    return setting(default, key=key, hint=_PORT_HINT, description=description, ge=1024, le=65535)


class LocalSettings(Model):
    """Settings of the embedded local backend: ports and where server data lives."""

    postgres_port: int = _port(54322, "postgresPort", "Local Postgres TCP port on 127.0.0.1.")
    redis_port: int = _port(6390, "redisPort", "Local Redis TCP port on 127.0.0.1.")
    storage_port: int = _port(
        9090, "storagePort", "Local S3-compatible store TCP port on 127.0.0.1."
    )
    app_port: int = _port(
        3100, "appPort", "Local port of the app the local stack runs (NEXT_PUBLIC_APP_URL)."
    )
    inngest_port: int = _port(
        8288, "inngestPort", "Local Inngest Dev Server TCP port on 127.0.0.1 (the job queue)."
    )
    error_tracker_port: int = _port(
        9100,
        "errorTrackerPort",
        "Local Sentry-compatible error tracker (Bugsink) TCP port on 127.0.0.1.",
    )
    watch: bool = setting(
        False,
        key="watch",
        hint="true to run `mentora-infra watch` as one of the local servers, false otherwise",
        description="Local: run `mentora-infra watch` as one of the stack's servers (its log: "
        "the watch_log output).",
    )
    watch_port: int = _port(
        9464,
        "watchPort",
        "Local watch's Prometheus metrics port on 127.0.0.1 (with mentora:watch).",
    )
    watch_every: int = setting(
        10,
        key="watchEvery",
        hint="seconds between two watch rounds, 1-3600",
        description="Local: seconds between two rounds of the local watch (with mentora:watch).",
        ge=1,
        le=3600,
    )
    base_stack: str = setting(
        "",
        key="baseStack",
        hint="the name of a deployed local stack (e.g. local), or empty",
        description="Local: the stack whose Postgres this stack gets a database of its own in, "
        "instead of running a server (set by `mentora-infra review up`; empty: its own server).",
        pattern=r"^([a-z0-9][a-z0-9_.-]*)?$",
    )
    backups: bool = setting(
        True,
        key="backups",
        hint="true to archive the database (WAL and base backups), false for a disposable stack",
        description="Local: archive the database's WAL and base backups to the store (false: a "
        "disposable stack such as a review stack; smoke shows its backup checks skipped).",
    )
    backup_archiver_port: int = _port(
        9191,
        "backupArchiverPort",
        "Local backup archiver's status port on 127.0.0.1 (WAL and base backups to the store).",
    )
    archive_timeout: int = setting(
        60,
        key="archiveTimeout",
        hint="seconds, 5-3600",
        description="Postgres archive_timeout in seconds: the most recent writes a restore can "
        "lose (the recovery point objective).",
        ge=5,
        le=3600,
    )
    backup_retention_days: int = setting(
        7,
        key="backupRetentionDays",
        hint="days, 1-365",
        description="Days a base backup and its WAL are kept in the backup bucket.",
        ge=1,
        le=365,
    )
    backup_base_backups_kept: int = setting(
        2,
        key="backupBaseBackupsKept",
        hint="a whole number 1-100",
        description="Newest base backups kept whatever their age.",
        ge=1,
        le=100,
    )
    backup_bucket: str = setting(
        "mentora-backups",
        key="backupBucket",
        hint="an S3 bucket name: 3-63 chars of a-z 0-9 . -",
        description="Bucket of the local S3 store holding the database's WAL and base backups "
        "(its own key pair; the app's key cannot read it).",
        pattern=_BUCKET,
    )
    app_command: str = setting(
        "{python} -m reference_app.serve --host 127.0.0.1 --port {port}",
        key="appCommand",
        hint="a command line; {python} and {port} are substituted",
        description="Command that serves the app contract locally; {python} and {port} are "
        "substituted. Default: the reference app.",
        min_length=1,
    )
    app_cwd: Path = setting(
        Path("."),
        key="appCwd",
        hint="a folder (relative to the project root)",
        description="Working directory of the local app command (relative to the project root).",
    )
    app_health_path: str = setting(
        "/api/health",
        key="appHealthPath",
        hint="a path starting with /, e.g. /api/health",
        description="Path the local stack polls until the app answers (the app contract's "
        "health endpoint).",
        pattern=r"^/\S*$",
    )
    app_source_dir: Path = setting(
        Path("reference_app"),
        key="appSourceDir",
        hint="the folder of the app's code (relative to the project root)",
        description="Folder of the local app's code: when a file in it changes, `up` restarts "
        "the app (relative to the project root).",
    )
    state_dir: Path = setting(
        Path(".pulumi-local/servers"),
        key="stateDir",
        hint="a dedicated folder (relative to the project root)",
        description="Folder for local server data (relative to the project root; git-ignored).",
    )
    env_file: Path = setting(
        Path(".env.local"),
        key="envFile",
        hint="a file path (relative to the project root)",
        description="Where the local stack writes the app's env file (mode 0600, git-ignored).",
    )

    @field_validator("state_dir", "env_file", "app_cwd", "app_source_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value if value.is_absolute() else PROJECT_ROOT / value

    @property
    def ports(self) -> dict[str, int]:
        """Config key -> port, for every local server."""
        return {
            key: getattr(self, name)
            for name, info in type(self).model_fields.items()
            if (key := info.alias or name).endswith("Port")
        }


class StackConfig(Model):
    """Validated configuration of one stack (local, dev or prod)."""

    stack: str
    target: Target = setting(
        key="target",
        hint="local or cloud",
        description="Where the stack runs: local (embedded servers on this machine) or cloud "
        "(Supabase, Upstash, AWS, Vercel).",
    )
    region: str = setting(
        "us-east-1",
        key="region",
        hint="an AWS region such as us-east-1",
        description="AWS region of the bucket (and the region the cloud services are placed near).",
        pattern=_REGION,
    )
    bucket_name: str = setting(
        "mentora-videos",
        key="bucketName",
        hint="an S3 bucket name: 3-63 chars of a-z 0-9 . -",
        description="Name of the S3 bucket holding videos (AWS_S3_BUCKET).",
        pattern=_BUCKET,
    )
    database_name: str = setting(
        "mentora",
        key="databaseName",
        hint="a lowercase SQL identifier such as mentora",
        description="Postgres database name (local only; Supabase always uses postgres).",
        pattern=_IDENT,
    )
    app_user: str = setting(
        "mentora_app",
        key="appUser",
        hint="a lowercase SQL identifier such as mentora_app",
        description="Non-superuser role the application connects as (local only).",
        pattern=_IDENT,
    )
    log_level: Literal["debug", "info", "warn", "error"] = setting(
        "debug",
        key="logLevel",
        hint="debug, info, warn or error",
        description="LOG_LEVEL given to the app (debug, info, warn, error).",
    )
    node_env: Literal["development", "production", "test"] = setting(
        "development",
        key="nodeEnv",
        hint="development, production or test",
        description="NODE_ENV given to the app (development, production, test).",
    )
    rate_limit_chat_per_min: int = setting(
        20,
        key="rateLimitChatPerMin",
        hint="a whole number >= 1",
        description="Requests per minute per client allowed on POST /api/chat "
        "(RATE_LIMIT_CHAT_PER_MIN).",
        ge=1,
        le=100_000,
    )
    local: LocalSettings | None = None
    cloud: CloudSettings | None = None
    secrets: dict[str, SecretStr] = Field(default_factory=dict, repr=False)
    """Cloud secrets by config key (values masked in any repr)."""


MODELS = (StackConfig, LocalSettings, CloudSettings)
_LOCAL_KEYS = keys_of(LocalSettings)
_CLOUD_KEYS = keys_of(CloudSettings)
_TOP_KEYS = keys_of(StackConfig)
_INT_KEYS = tuple(
    info.alias
    for model in MODELS
    for info in model.model_fields.values()
    if info.annotation is int and info.alias
)
ALL_KEYS = (*_TOP_KEYS, *_LOCAL_KEYS, *_CLOUD_KEYS)
_KNOWN = (*ALL_KEYS, *CLOUD_SECRETS)


def _section(raw: dict[str, str], keys: tuple[str, ...], problems: list[Problem]) -> dict:
    """The keys of one settings section that are set; whole-number keys checked first."""
    section: dict[str, Any] = {}
    for key in keys:
        if key not in raw:
            continue
        if key in _INT_KEYS and not re.fullmatch(r"\d+", raw[key].strip()):
            problems.append(Problem(key, raw[key], "is not a whole number", hint_of(MODELS, key)))
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
    problems: list[Problem] = [_unknown(key) for key in raw if key not in _KNOWN]
    lines: list[str] = []
    values = _section(raw, _TOP_KEYS, problems)
    if "target" not in values:
        problems.append(Problem("target", None, "is required", hint_of(MODELS, "target")))
    if values.get("target") == Target.LOCAL:
        values["local"] = _section(raw, _LOCAL_KEYS, problems)
    elif values.get("target") == Target.CLOUD:
        values["cloud"] = _section(raw, _CLOUD_KEYS, problems)
        lines += secret_problems(stack, secrets or {}, encrypted or {})
        values["secrets"] = {k: v for k, v in (secrets or {}).items() if v}
    config: StackConfig | None = None
    try:
        config = StackConfig(stack=stack, **values)
    except ValidationError as exc:
        problems += [_validation_problem(raw, err) for err in exc.errors()]
    if config is not None:
        problems += cross_field_problems(config)
    rendered = [p.render(stack) for p in problems] + lines
    if rendered:
        raise ConfigError(stack, rendered)
    assert config is not None
    return config


def _unknown(key: str) -> Problem:
    """A key this project does not read: a typo would otherwise pass without a word."""
    close = difflib.get_close_matches(key, _KNOWN, n=1)
    guess = f" (did you mean mentora:{close[0]}?)" if close else ""
    return Problem(
        key,
        None,
        f"is not a setting of this project{guess}",
        fix=f"pulumi config rm mentora:{key} -s <stack>, then set the right key",
        show_value=False,  # it may be a secret set under a misspelt name
    )


def _validation_problem(raw: dict[str, str], err: Any) -> Problem:
    loc = [str(part) for part in err["loc"]]
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        message = "is required for cloud stacks"
    if loc[-1].isdigit():  # an item of a list setting (supabaseAllowedCidrs.0)
        loc = loc[:-1]
    key = loc[-1]
    return Problem(key, raw.get(key), message, hint_of(MODELS, key))


def load_stack_config() -> StackConfig:
    """Read every `mentora:*` key of the current stack and validate it (`parse_stack_config`).

    Secrets are read raw (never through `Config.get`, which would warn with the key) only to check
    that they are present, encrypted and well formed; the program wraps them in `Output.secret`.
    """
    cfg = pulumi.Config(NAMESPACE)
    raw = {k: v for k in dict.fromkeys(ALL_KEYS) if (v := cfg.get(k)) is not None}
    prefix = f"{NAMESPACE}:"
    for name in pulumi.runtime.config.CONFIG.get():  # every key of the stack, to find typos
        key = name.removeprefix(prefix)
        if name.startswith(prefix) and key not in _KNOWN:
            raw[key] = ""
    secrets = {k: pulumi.runtime.get_config(f"{NAMESPACE}:{k}") for k in CLOUD_SECRETS}
    encrypted = {k: pulumi.runtime.is_config_secret(f"{NAMESPACE}:{k}") for k in CLOUD_SECRETS}
    return parse_stack_config(pulumi.get_stack(), raw, secrets, encrypted)
