"""`SupabaseBranchDatabase`: a review stack's database, a Supabase branch of the dev project."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.cloud.supabase_branch import SupabaseBranch
from components.schema import migrated


@dataclass(frozen=True, kw_only=True)
class SupabaseBranchDatabaseArgs:
    """The preview branch of a review stack (see components/cloud/supabase_branch.py)."""

    parent_ref: pulumi.Input[str]
    """The dev project's ref: the branch's parent."""
    branch_name: str
    """The branch's name in Supabase: the review stack's name (`pr-<N>`)."""
    git_branch: str
    """The pull request's git branch."""
    access_token: pulumi.Input[str]
    migrations_dir: str


class SupabaseBranchDatabase(pulumi.ComponentResource):
    """Owns the preview branch and the pull request's own migrations on top of it.

    Supabase replays the dev project's migrations into a new branch (the branch is usable once
    MIGRATIONS_PASSED); the migrations the pull request adds are then applied the way every stack
    applies them (components/schema.py, the same ledger). `url` resolves only after both.
    Same outputs as `SupabaseDatabase`, so the outputs contract and smoke do not change.
    """

    url: pulumi.Output[str]
    """Pooled Postgres URL of the branch (secret)."""
    applied_migrations: pulumi.Output[list[str]]
    """Versions recorded in the branch's supabase_migrations.schema_migrations."""
    api_url: pulumi.Output[str]
    """The branch's Supabase API URL (NEXT_PUBLIC_SUPABASE_URL)."""
    anon_key: pulumi.Output[str]
    """The branch's public key (secret in the state)."""
    service_role_key: pulumi.Output[str]
    """The branch's server key, bypasses RLS (secret)."""
    admin_url: pulumi.Output[str]
    """`postgres` through the pooler's session mode (secret): what migrations and `drill` use."""

    def __init__(
        self,
        name: str,
        args: SupabaseBranchDatabaseArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mentora:infra:SupabaseBranchDatabase", name, None, opts)
        branch = SupabaseBranch(
            f"{name}-branch",
            parent_ref=args.parent_ref,
            branch_name=args.branch_name,
            git_branch=args.git_branch,
            access_token=args.access_token,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url, self.applied_migrations = migrated(
            self,
            name,
            admin_url=branch.migrations_url,
            app_url=branch.database_url,
            migrations_dir=args.migrations_dir,
        )
        self.api_url = branch.url
        self.anon_key = pulumi.Output.secret(branch.anon_key)
        self.admin_url = pulumi.Output.secret(branch.migrations_url)
        self.service_role_key = pulumi.Output.secret(branch.service_role_key)
        self.register_outputs(
            {
                "url": self.url,
                "applied_migrations": self.applied_migrations,
                "api_url": self.api_url,
                "anon_key": self.anon_key,
                "service_role_key": self.service_role_key,
                "admin_url": self.admin_url,
            }
        )
