"""Where the app is deployed and how it receives its environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
class VercelArgs:
    """The Vercel project of a cloud stack: git link, domains and the env var targets."""

    project_name: str
    git_repository: str
    production_branch: str
    app_url: str
    targets: list[str]
    """Vercel environments the variables go to: production (prod) or preview+development (dev)."""
    variables: Mapping[str, pulumi.Input[str]]
    domains: list[str] = field(default_factory=list)
    provider: pulumi.ProviderResource | None = None


@dataclass(frozen=True, kw_only=True)
class DeployTargetArgs:
    """Inputs of `DeployTarget` (the local env file + app, or `vercel`)."""

    env: pulumi.Input[dict[str, str]]
    local_env_file: str | None = None
    """Local stack: path of the env file written for the app (mode 0600)."""
    local_app: LocalAppArgs | None = None
    vercel: VercelArgs | None = None


class DeployTarget(pulumi.ComponentResource):
    """Owns the app's deployment target: locally `.env.local` and the running app process; in the
    cloud the Vercel project, its domains and one env var per provided name."""

    env_file: pulumi.Output[str] | None
    app_url: pulumi.Output[str] | None
    """Base URL of the deployed app, when this target runs one."""

    def __init__(
        self, name: str, args: DeployTargetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:DeployTarget", name, None, opts)
        if args.vercel is not None:
            self.env_file = None
            self.app_url = self._vercel(name, args.vercel)
            self.register_outputs({"app_url": self.app_url})
            return
        if args.local_env_file is None:
            raise pulumi.RunError("deploy target: give local_env_file= or vercel=")
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

    def _vercel(self, name: str, args: VercelArgs) -> pulumi.Output[str]:
        import pulumiverse_vercel as vercel

        from components.app_secrets import is_sensitive

        opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        project = vercel.Project(
            f"{name}-project",
            name=args.project_name,
            framework="nextjs",
            git_repository={
                "type": "github",
                "repo": args.git_repository,
                "production_branch": args.production_branch,
            },
            opts=opts,
        )
        for domain in args.domains:
            vercel.ProjectDomain(
                f"{name}-domain-{domain}", project_id=project.id, domain=domain, opts=opts
            )
        for key, value in sorted(args.variables.items()):
            vercel.ProjectEnvironmentVariable(
                f"{name}-env-{key.lower().replace('_', '-')}",
                project_id=project.id,
                key=key,
                # The SDK stores every value as a Pulumi secret; `sensitive` decides whether Vercel
                # keeps it write-only (NEXT_PUBLIC_* are inlined into the browser bundle anyway).
                value=value,
                targets=args.targets,
                sensitive=is_sensitive(key),
                comment="managed by mentora-infra (pulumi)",
                opts=opts,
            )
        return pulumi.Output.from_input(args.app_url)
