"""`LocalDeployTarget`: the app's `.env.local` and the app process the local stack runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from components.former import formerly
from components.local.app_process import AppProcess, AppSettings
from components.local.env_file import EnvFile
from components.local.server_provider import resolved


@dataclass(frozen=True, kw_only=True)
class LocalDeployTargetArgs:
    """The env file to write and the command that serves the app contract on `port`."""

    env: pulumi.Input[dict[str, str]]
    env_file: str
    command: str
    cwd: str
    port: int
    health_path: str
    data_dir: str
    source_digest: str = ""
    """Digest of the app's code (a change restarts the app)."""
    extra_env: dict[str, str] = field(default_factory=dict)
    """Settings given to the app process only (not written to the env file)."""
    hints: Mapping[str, str] = field(default_factory=dict)
    """How the user changes a setting (`port`, `data_dir`), shown in the process's errors."""


class LocalDeployTarget(pulumi.ComponentResource):
    """Owns `.env.local` (mode 0600) and the locally running app that reads the same env."""

    env_file: pulumi.Output[str]
    app_url: pulumi.Output[str]
    """Base URL of the running app."""

    def __init__(
        self, name: str, args: LocalDeployTargetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "mentora:infra:LocalDeployTarget",
            name,
            None,
            formerly("mentora:infra:DeployTarget", opts),
        )
        env_file = EnvFile(
            f"{name}-env-file",
            path=args.env_file,
            values=args.env,
            opts=pulumi.ResourceOptions(parent=self),
        )
        extra = dict(args.extra_env)
        settings = AppSettings(
            port=args.port,
            data_dir=Path(args.data_dir),
            hints=args.hints,
            command=args.command,
            cwd=args.cwd,
            health_path=args.health_path,
            env=resolved(pulumi.Output.from_input(args.env).apply(lambda env: {**env, **extra})),
            source_digest=args.source_digest,
        )
        process = AppProcess(f"{name}-process", settings, pulumi.ResourceOptions(parent=self))
        self.env_file = env_file.path
        self.app_url = process.url
        self.register_outputs({"env_file": self.env_file, "app_url": self.app_url})
