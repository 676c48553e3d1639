"""`VercelDeployTarget`: the Vercel project of a cloud stack, its domains and env variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumiverse_vercel as vercel

from components.app_secrets import is_sensitive
from components.former import formerly


@dataclass(frozen=True, kw_only=True)
class VercelDeployTargetArgs:
    """The Vercel project: git link, domains and the environments the variables go to."""

    project_name: str
    git_repository: str
    production_branch: str
    app_url: str
    targets: list[str]
    """Vercel environments the variables go to: production (prod) or preview+development (dev)."""
    variables: Mapping[str, pulumi.Input[str]]
    domains: list[str] = field(default_factory=list)
    provider: pulumi.ProviderResource | None = None


class VercelDeployTarget(pulumi.ComponentResource):
    """Owns the Vercel project, its domains and one env variable per provided name."""

    app_url: pulumi.Output[str]
    """The app's public origin."""

    def __init__(
        self, name: str, args: VercelDeployTargetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "mentora:infra:VercelDeployTarget",
            name,
            None,
            formerly("mentora:infra:DeployTarget", opts),
        )
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        project = vercel.Project(
            f"{name}-project",
            name=args.project_name,
            framework="nextjs",
            git_repository={
                "type": "github",
                "repo": args.git_repository,
                "production_branch": args.production_branch,
            },
            opts=child,
        )
        for domain in args.domains:
            vercel.ProjectDomain(
                f"{name}-domain-{domain}", project_id=project.id, domain=domain, opts=child
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
                opts=child,
            )
        self.app_url = pulumi.Output.from_input(args.app_url)
        self.register_outputs({"app_url": self.app_url})
