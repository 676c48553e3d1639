"""`VercelPreviewTarget`: a review stack's app, a preview deployment of dev's Vercel project."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumiverse_vercel as vercel

from components.app_secrets import is_sensitive

PREVIEW = "preview"


@dataclass(frozen=True, kw_only=True)
class VercelPreviewTargetArgs:
    """Dev's Vercel project, the pull request's branch and head, and the variables to scope."""

    project_id: pulumi.Input[str]
    """Dev's Vercel project (from dev's outputs): review stacks own no project of their own."""
    git_branch: str
    """The pull request's git branch: every variable is scoped to it, on `preview` only."""
    head: str
    """The pull request's head commit (recorded on the deployment; a new head, a new one)."""
    variables: Mapping[str, pulumi.Input[str]]
    fingerprint: pulumi.Input[str]
    provider: pulumi.ProviderResource | None = None


class VercelPreviewTarget(pulumi.ComponentResource):
    """Owns the branch-scoped variables of dev's project and one preview deployment of the
    pull request's branch that carries them.

    Variables with `git_branch` apply to that branch's preview deployments only, so dev's own
    preview and production values are untouched. Vercel applies variables to new deployments
    only: a new head or a new fingerprint makes a new deployment (every attribute of a
    Deployment forces a replacement), deleted with the stack (`delete_on_destroy`).
    """

    app_url: pulumi.Output[str]
    """The preview deployment's own origin (`https://<project>-<hash>.vercel.app`)."""
    production_url: pulumi.Output[str]
    """Same as `app_url`: a review stack has no production origin and is never promoted."""
    deployment_url: pulumi.Output[str]
    """The deployment's host name."""
    deployment_id: pulumi.Output[str]
    """Vercel's id of the preview deployment."""
    project_id: pulumi.Output[str]
    """Dev's Vercel project id."""
    bypass_secret: pulumi.Output[str]
    """Secret for `x-vercel-protection-bypass`: previews sit behind Vercel Authentication (dev's
    project setting), and smoke must reach this one (secret)."""

    def __init__(
        self, name: str, args: VercelPreviewTargetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:VercelPreviewTarget", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        variables = [
            vercel.ProjectEnvironmentVariable(
                f"{name}-env-{key.lower().replace('_', '-')}",
                project_id=args.project_id,
                key=key,
                value=value,
                targets=[PREVIEW],
                git_branch=args.git_branch,
                sensitive=is_sensitive(key),
                comment=f"managed by mentora-infra (review stack of {args.git_branch})",
                # Created before the old one is deleted, Vercel answers ENV_ALREADY_EXISTS
                # (pulumiverse/pulumi-vercel#118).
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(delete_before_replace=True)
                ),
            )
            for key, value in sorted(args.variables.items())
        ]
        deployment = vercel.Deployment(
            f"{name}-deployment",
            project_id=args.project_id,
            # The branch, not the sha: Vercel matches branch-scoped variables by the deployment's
            # git ref. The head sha in `meta` makes each push a new deployment.
            ref=args.git_branch,
            production=False,
            delete_on_destroy=True,
            meta={"mentora_config_fingerprint": args.fingerprint, "mentora_app_commit": args.head},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=variables)),
        )
        # Its own bypass (not dev's): removed with the stack, so no secret outlives the review.
        bypass = vercel.ProjectProtectionBypass(
            f"{name}-bypass",
            project_id=args.project_id,
            note=f"mentora-infra review stack of {args.git_branch}"[:100],
            opts=child,
        )
        self.bypass_secret = pulumi.Output.secret(bypass.secret)
        self.deployment_url = deployment.url
        self.deployment_id = deployment.id
        self.project_id = pulumi.Output.from_input(args.project_id)
        self.app_url = deployment.url.apply(lambda host: f"https://{host}")
        self.production_url = self.app_url
        self.register_outputs(
            {
                "app_url": self.app_url,
                "production_url": self.production_url,
                "deployment_url": self.deployment_url,
                "deployment_id": self.deployment_id,
                "project_id": self.project_id,
                "bypass_secret": self.bypass_secret,
            }
        )
