"""`LocalBranchErrorTracking`: a review stack's project in its base stack's Bugsink: the local
counterpart of Sentry environment `pr-<N>` (stacks/review_cloud.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.local.bugsink_tenant import BugsinkProject


@dataclass(frozen=True, kw_only=True)
class LocalBranchErrorTrackingArgs:
    """The base stack's Bugsink and the project made in it."""

    url: pulumi.Input[str]
    token: pulumi.Input[str]
    """The base's API token (secret): makes the project, and lets smoke read its events."""
    admin_password: pulumi.Input[str]
    """The base's admin password (secret): deletes the project in Bugsink's console."""
    team: str
    project: str


class LocalBranchErrorTracking(pulumi.ComponentResource):
    """Owns one project (its DSN) in another stack's Bugsink."""

    dsn: pulumi.Output[str]
    """The project's DSN (secret)."""
    api_url: pulumi.Output[str]
    """The base's Bugsink (SENTRY_API_URL)."""
    api_token: pulumi.Output[str]
    """The base's token (secret): smoke's only (`smoke_env`), never the app's."""
    project_id: pulumi.Output[str]
    """The project's id (SENTRY_PROJECT)."""

    def __init__(
        self,
        name: str,
        args: LocalBranchErrorTrackingArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mentora:infra:LocalBranchErrorTracking", name, None, opts)
        project = BugsinkProject(
            f"{name}-project",
            url=args.url,
            token=args.token,
            admin_password=args.admin_password,
            team=args.team,
            project=args.project,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dsn = pulumi.Output.secret(project.dsn)
        self.api_url = pulumi.Output.from_input(args.url)
        self.api_token = pulumi.Output.secret(args.token)
        self.project_id = project.project_id
        self.register_outputs({"api_url": self.api_url, "project_id": self.project_id})
