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
    ref: str
    """What the deployment builds: a commit sha (the one dev's gate passed) or the branch."""
    app_url: str
    """The production origin: served by the deployment only once the gate promotes it."""
    targets: list[str]
    """Vercel environments the variables go to: production (prod), production + preview (dev)."""
    variables: Mapping[str, pulumi.Input[str]]
    fingerprint: pulumi.Input[str]
    """Digest of `variables`: a new value makes a new deployment (env applies to new ones only)."""
    domains: list[str] = field(default_factory=list)
    provider: pulumi.ProviderResource | None = None


def targets_of(key: str, targets: list[str]) -> list[str]:
    """The targets a variable goes to: Vercel refuses a sensitive variable on `development`.

    >>> targets_of("SUPABASE_SERVICE_ROLE_KEY", ["preview", "development"])
    ['preview']
    """
    return [t for t in targets if not (t == "development" and is_sensitive(key))]


class VercelDeployTarget(pulumi.ComponentResource):
    """Owns the Vercel project, its domains, one env variable per provided name, and the
    production deployment that carries the current variables.

    Vercel applies variables to new deployments only: so `up` makes a production deployment of
    `ref` whenever the variables' fingerprint or the ref changes (every attribute of a Deployment
    forces a new one). Custom domains are never assigned automatically (not to ours, not to a git
    push's): a production deployment is staged, smoked on its own URL, and only then promoted to
    the domains by the gate (gate/promote.py, Vercel's promote API).
    """

    app_url: pulumi.Output[str]
    """The deployment's own origin (`https://<project>-<hash>.vercel.app`): what smoke tests."""
    production_url: pulumi.Output[str]
    """The production origin; it serves this deployment once the gate has promoted it."""
    deployment_url: pulumi.Output[str]
    """The deployment's own host name (`<project>-<hash>.vercel.app`)."""
    deployment_id: pulumi.Output[str]
    """Vercel's id of the deployment (what the gate promotes)."""
    project_id: pulumi.Output[str]
    """Vercel's id of the project."""

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
            # Off: no production deployment (a git push's or ours) reaches the domains by itself.
            auto_assign_custom_domains=False,
            # Standard Protection (the default) guards every URL but the custom production
            # domains: smoke could not reach the staged deployment. Production deployments stay
            # reachable at their own URL; branch previews stay behind Vercel Authentication.
            vercel_authentication={"deployment_type": "only_preview_deployments"},
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
        variables = []
        for key, value in sorted(args.variables.items()):
            variable = vercel.ProjectEnvironmentVariable(
                f"{name}-env-{key.lower().replace('_', '-')}",
                project_id=project.id,
                key=key,
                # The SDK stores every value as a Pulumi secret; `sensitive` decides whether Vercel
                # keeps it write-only (NEXT_PUBLIC_* are inlined into the browser bundle anyway).
                value=value,
                targets=targets_of(key, args.targets),
                sensitive=is_sensitive(key),
                comment="managed by mentora-infra (pulumi)",
                # Created before the old one is deleted, Vercel answers ENV_ALREADY_EXISTS
                # (pulumiverse/pulumi-vercel#118).
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(delete_before_replace=True)
                ),
            )
            variables.append(variable)
        deployment = vercel.Deployment(
            f"{name}-deployment",
            project_id=project.id,
            ref=args.ref,
            production=True,
            meta={"mentora_config_fingerprint": args.fingerprint, "mentora_app_commit": args.ref},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=variables)),
        )
        self.deployment_url = deployment.url
        self.deployment_id = deployment.id
        self.project_id = project.id
        self.app_url = deployment.url.apply(lambda host: f"https://{host}")
        self.production_url = pulumi.Output.all(args.app_url, deployment.id).apply(
            lambda pair: str(pair[0])
        )
        self.register_outputs(
            {
                "app_url": self.app_url,
                "production_url": self.production_url,
                "deployment_url": self.deployment_url,
                "deployment_id": self.deployment_id,
                "project_id": self.project_id,
            }
        )
