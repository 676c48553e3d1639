"""Where the app is deployed and how it receives its environment."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.local.app_process import AppProcess
from components.local.env_file import EnvFile


@dataclass(frozen=True, kw_only=True)
class LocalAppArgs:
    """How the local stack runs the app: a command serving the app contract on `port`."""

    command: str
    cwd: str
    port: int
    health_path: str
    data_dir: str
    extra_env: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class DeployTargetArgs:
    """Inputs of `DeployTarget`."""

    env: pulumi.Input[dict[str, str]]
    local_env_file: str | None = None
    """Local stack: path of the env file written for the app (mode 0600)."""
    local_app: LocalAppArgs | None = None


class DeployTarget(pulumi.ComponentResource):
    """Owns the app's deployment target; locally, `.env.local` and the running app process."""

    env_file: pulumi.Output[str] | None
    app_url: pulumi.Output[str] | None
    """Base URL of the deployed app, when this target runs one."""

    def __init__(
        self, name: str, args: DeployTargetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:DeployTarget", name, None, opts)
        if args.local_env_file is None:
            raise pulumi.RunError("deploy target: only the local target is wired so far")
        env_file = EnvFile(
            f"{name}-env-file",
            path=args.local_env_file,
            values=args.env,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.env_file = env_file.path
        self.app_url = None
        if args.local_app is not None:
            app = args.local_app
            process = AppProcess(
                f"{name}-process",
                command=app.command,
                cwd=app.cwd,
                port=app.port,
                health_path=app.health_path,
                data_dir=app.data_dir,
                env=pulumi.Output.from_input(args.env).apply(lambda env: {**env, **app.extra_env}),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.app_url = process.url
        self.register_outputs({"env_file": self.env_file, "app_url": self.app_url})
