"""The stack outputs contract: what every stack exports, shared by its producer and consumers.

`stacks/outputs.py` exports exactly these outputs (a unit test runs the local, dev and prod
programs under mocks and compares), `smoke/` and `gate/` read them back through `StackOutputs`.
No Pulumi import here: smoke loads this module in a plain pytest process.

>>> StackOutputs.from_json(raw, "stack 'dev'", "dev").target  # doctest: +SKIP
<Target.CLOUD: 'cloud'>
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Target(StrEnum):
    """Where a stack's services run; chosen once, by `mentora:target`, in stacks/."""

    LOCAL = "local"
    CLOUD = "cloud"


@dataclass(frozen=True)
class OutputSpec:
    """One output of the contract: its name, whether it is a secret, which targets export it."""

    name: str
    secret: bool
    doc: str
    targets: frozenset[Target] = frozenset(Target)
    required: bool = True


_BOTH, _LOCAL, _CLOUD = frozenset(Target), frozenset({Target.LOCAL}), frozenset({Target.CLOUD})
OUTPUTS: tuple[OutputSpec, ...] = (
    OutputSpec("target", False, "where the services run: local or cloud"),
    OutputSpec("database_url", True, "Postgres URL of the application role"),
    OutputSpec("redis_url", True, "Redis URL with credentials (rediss:// in the cloud)"),
    OutputSpec("bucket_name", False, "the video bucket (AWS_S3_BUCKET)"),
    OutputSpec("storage_endpoint", False, "S3 endpoint URL; empty for AWS itself"),
    OutputSpec("storage_region", False, "S3 region"),
    OutputSpec("env", True, "the app's environment: name -> value"),
    OutputSpec("app_url", False, "base URL of the deployed app", required=False),
    OutputSpec(
        "config_fingerprint",
        False,
        "digest of the app's env; the deployed app reports it on /api/health",
        required=False,
    ),
    OutputSpec("env_file", False, "the env file written for the app", _LOCAL),
    OutputSpec(
        "database_server_urn", False, "URN of the local Postgres server (to rebuild it)", _LOCAL
    ),
    OutputSpec(
        "watch_log", False, "the local watch's transition log (with mentora:watch)", _LOCAL, False
    ),
    OutputSpec("watch_metrics_url", False, "the local watch's Prometheus metrics", _LOCAL, False),
    OutputSpec(
        "review_base",
        True,
        "what review stacks on this stack's servers attach to: a superuser's URL of its Postgres "
        "cluster (README: Review stacks)",
        _LOCAL,
        False,
    ),
    OutputSpec(
        "backup",
        True,
        "the backup bucket, its key, the archiver's status URL and archive_timeout "
        "(README: Backups and restore drills)",
        _LOCAL,
        False,
    ),
    OutputSpec("supabase_url", False, "the Supabase API URL", _CLOUD),
    OutputSpec(
        "drill_source_url",
        True,
        "what `mentora-infra drill` copies from: `postgres` through the pooler's session mode "
        "(the app's own login cannot read the migration ledger or auth.users)",
        _CLOUD,
        False,
    ),
    OutputSpec("redis_rest_url", False, "the Upstash REST URL", _CLOUD),
    OutputSpec(
        "smoke_env", True, "secrets only smoke reads (never in the app's env)", _BOTH, False
    ),
    OutputSpec(
        "production_url", False, "the production origin (serves the app once promoted)", _CLOUD
    ),
    OutputSpec("vercel_project_id", False, "the Vercel project's id", _CLOUD),
    OutputSpec(
        "vercel_deployment_id", False, "the deployment the gate smokes, then promotes", _CLOUD
    ),
)
BY_NAME: dict[str, OutputSpec] = {spec.name: spec for spec in OUTPUTS}
SECRET_OUTPUTS: tuple[str, ...] = tuple(spec.name for spec in OUTPUTS if spec.secret)
# What smoke needs of any stack (an outputs file saved by hand must carry at least these).
REQUIRED: tuple[str, ...] = tuple(s.name for s in OUTPUTS if s.required and s.targets == _BOTH)
NON_EMPTY = ("bucket_name", "storage_region")
SCHEMES = {"database_url": ("postgresql", "postgres"), "redis_url": ("redis", "rediss")}
CONTRACT_DOC = "docs/architecture.md"


def exported_by(target: Target) -> tuple[str, ...]:
    """The outputs a stack of `target` must export (optional ones may be added).

    >>> exported_by(Target.LOCAL)[:2]
    ('target', 'database_url')
    """
    return tuple(s.name for s in OUTPUTS if s.required and target in s.targets)


class OutputsError(Exception):
    """Raised when outputs cannot be read (pulumi CLI error, unreadable file, not JSON) or an
    output the contract requires is missing or has the wrong type. The message names the stack or
    file, the output and the fix, and never contains a secret value."""


def deploy_command(stack: str, target: Target | None) -> str:
    """The command that deploys (or heals) `stack`: `make up` for the local target.

    >>> deploy_command("dev", Target.CLOUD)
    'pulumi up --stack dev'
    """
    if target is Target.LOCAL or (target is None and stack in ("local", "file")):
        return "make up"
    # An outputs file of a cloud stack does not say which stack it came from.
    return f"pulumi up --stack {'<stack>' if stack == 'file' else stack}"


@dataclass(frozen=True, kw_only=True)
class StackOutputs:
    """The outputs of one stack. Secrets are in clear but kept out of `repr()`: still, never
    print them; show `redact_url(...)` of a URL instead."""

    target: Target
    database_url: str = field(repr=False)
    redis_url: str = field(repr=False)
    bucket_name: str
    storage_endpoint: str
    storage_region: str
    app_url: str | None = None
    config_fingerprint: str | None = None
    env: dict[str, str] = field(default_factory=dict, repr=False)
    smoke_env: dict[str, str] = field(default_factory=dict, repr=False)
    """Secrets smoke reads that the app never gets (cloud: SENTRY_READ_TOKEN)."""
    database_server_urn: str | None = None
    drill_source_url: str | None = field(default=None, repr=False)
    """Cloud: `postgres`' URL the restore drill copies from (None: use database_url)."""
    backup: dict[str, Any] = field(default_factory=dict, repr=False)
    """Local: where the database's backups are (bucket, endpoint, key, status URL); {} if none."""
    stack: str = "file"
    """Where the outputs came from: a stack name, or `file` for an outputs file."""

    @property
    def is_local(self) -> bool:
        """Whether the services run on this machine (the local target)."""
        return self.target is Target.LOCAL

    @property
    def fix(self) -> str:
        """The command that deploys or heals this stack."""
        return deploy_command(self.stack, self.target)

    @classmethod
    def from_json(cls, raw: object, source: str, stack: str = "file") -> StackOutputs:
        """Validate `pulumi stack output --json` data; `source` names it in errors
        (`stack 'dev'`, `outputs file o.json`)."""
        if not isinstance(raw, dict):
            raise OutputsError(f"{source}: outputs are {type(raw).__name__}, not a JSON object")
        missing = [name for name in REQUIRED if name not in raw]
        if missing:
            raise OutputsError(
                f"{source} has no output {', '.join(missing)} (the outputs contract is in "
                f"{CONTRACT_DOC}); deploy it first: {deploy_command(stack, None)}"
            )
        values: dict[str, Any] = {}
        for name in ("database_url", "redis_url", *NON_EMPTY, "storage_endpoint"):
            value = "" if name == "storage_endpoint" and raw[name] is None else raw[name]
            if not isinstance(value, str):
                raise OutputsError(f"{source}: output {name} is {type(value).__name__}, not text")
            values[name] = value.strip()
            if not values[name] and name in NON_EMPTY:
                raise OutputsError(f"{source}: output {name} is empty")
        for name, schemes in SCHEMES.items():
            scheme = values[name].split("://", 1)[0].lower() if "://" in values[name] else ""
            if scheme not in schemes:
                raise OutputsError(f"{source}: output {name} is not a {schemes[0]}:// URL")
        try:
            target = Target(raw["target"])
        except ValueError:
            raise OutputsError(
                f"{source}: output target is {raw['target']!r}, not one of "
                f"{', '.join(t.value for t in Target)}"
            ) from None
        env = raw["env"]
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise OutputsError(f"{source}: output env is not a map of names to text")
        smoke_env = raw.get("smoke_env") or {}
        if not isinstance(smoke_env, dict) or not all(
            isinstance(v, str) for v in smoke_env.values()
        ):
            raise OutputsError(f"{source}: output smoke_env is not a map of names to text")
        optional: dict[str, Any] = {}
        for name in ("app_url", "config_fingerprint", "database_server_urn", "drill_source_url"):
            value = raw.get(name)
            if value is not None and not isinstance(value, str):
                raise OutputsError(f"{source}: output {name} is {type(value).__name__}, not text")
            optional[name] = (value.strip().rstrip("/") or None) if value else None
        backup = raw.get("backup") or {}
        if not isinstance(backup, dict):
            raise OutputsError(f"{source}: output backup is not a map")
        return cls(
            **values,
            **optional,
            backup=dict(backup),
            target=target,
            env={str(k): v for k, v in env.items()},
            smoke_env={str(k): v for k, v in smoke_env.items()},
            stack=stack,
        )
