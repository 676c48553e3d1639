"""Rules that span several config keys, each naming the key to change and the fix.

They run on a `StackConfig` whose single fields are already valid (stacks/config.py).
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

from review.naming import parse_review_stack
from stacks.cloud_settings import CLOUD_REGIONS, REVIEW_SECRETS, CloudSettings
from stacks.contract import Target
from stacks.settings import Problem, hint_of

if TYPE_CHECKING:
    from stacks.config import StackConfig


def cross_field_problems(config: StackConfig) -> list[Problem]:
    """Every cross-field problem of `config` (empty when there is none)."""
    problems: list[Problem] = []
    if config.local is not None:
        ports = config.local.ports
        for (key_a, port_a), (key_b, port_b) in combinations(ports.items(), 2):
            if port_a == port_b:
                problems.append(
                    Problem(
                        key_b,
                        str(port_b),
                        f"must differ from mentora:{key_a} (both are {port_b}; every local "
                        "server needs its own port)",
                        "a free TCP port 1024-65535 used by no other mentora:*Port",
                    )
                )
        problems += _base_stack_problems(config)
    if config.target is Target.CLOUD:
        problems += _cloud_problems(config)
    return problems


def _base_stack_problems(config: StackConfig) -> list[Problem]:
    """A stack on another stack's Postgres (`mentora:baseStack`) names another stack and keeps
    no backups of its own (it has no server to archive)."""
    local, stack = config.local, config.stack
    assert local is not None
    if not local.base_stack:
        return []
    problems = []
    if local.base_stack == stack:
        problems.append(
            Problem(
                "baseStack",
                local.base_stack,
                "names the stack itself",
                fix=f"pulumi config rm mentora:baseStack -s {stack} (or name another stack)",
            )
        )
    if local.backups:
        problems.append(
            Problem(
                "backups",
                True,
                "a stack on another stack's Postgres (mentora:baseStack) runs no server to "
                "archive; its base stack's backups cover the cluster",
                fix=f"pulumi config set mentora:backups false -s {stack}",
            )
        )
    return problems


def _cloud_problems(config: StackConfig) -> list[Problem]:
    problems: list[Problem] = []
    if config.region not in CLOUD_REGIONS:
        problems.append(
            Problem(
                "region",
                config.region,
                "is not a region where Supabase, Upstash and S3 all run",
                f"one of {', '.join(CLOUD_REGIONS)}",
            )
        )
    cloud = config.cloud
    if cloud is None:
        return problems
    if cloud.supabase_pitr_days and cloud.supabase_instance_size == "nano":
        problems.append(
            Problem(
                "supabasePitrDays",
                str(cloud.supabase_pitr_days),
                "point-in-time recovery needs a paid instance size (not nano)",
                fix=f"pulumi config set mentora:supabasePitrDays 0 -s {config.stack}, or pick a "
                "paid mentora:supabaseInstanceSize",
            )
        )
    # Monitoring (components/cloud/health_monitor.py, sentry_alerts.py) needs somewhere to alert
    # and the app's Sentry project.
    if not cloud.alert_email and "alertWebhookUrl" not in config.secrets:
        problems.append(
            Problem(
                "alertEmail",
                "",
                "the health check needs an alert channel: an e-mail address or a webhook",
                fix="pulumi config set mentora:alertEmail <address> -s <stack> (or: pulumi config "
                "set --secret mentora:alertWebhookUrl <https url> -s <stack>)",
            )
        )
    for key, value in (("sentryOrg", cloud.sentry_org), ("sentryProject", cloud.sentry_project)):
        if not value:
            problems.append(
                Problem(
                    key,
                    "",
                    "is required for cloud stacks (the Sentry alert rules are declared there)",
                    hint_of((CloudSettings,), key),
                )
            )
    if parse_review_stack(config.stack) is not None:
        problems += _review_problems(config, cloud)
    if config.stack == "prod" and not cloud.hardened:
        problems.append(
            Problem(
                "hardened",
                False,
                "the prod stack must be hardened (protected state, versioned bucket)",
                fix="pulumi config set mentora:hardened true -s prod",
            )
        )
    return problems


def _review_problems(config: StackConfig, cloud: CloudSettings) -> list[Problem]:
    """A cloud review stack (pr-<N>) names its pull request's branch and head, and has the keys
    of Inngest's branch environments (copied from dev with the rest of its config)."""
    problems = [
        Problem(
            key,
            "",
            f"is required for a cloud review stack ({what})",
            hint_of((CloudSettings,), key),
        )
        for key, value, what in (
            ("reviewBranch", cloud.review_branch, "the pull request's git branch"),
            ("appCommit", cloud.app_commit, "the pull request's head commit"),
        )
        if not value
    ]
    problems += [
        Problem(
            key,
            None,
            "is required for cloud review stacks (Inngest branch environments have their own keys)",
            fix=f"pulumi config set --secret mentora:{key} <value> -s dev, then run "
            "`mentora-infra review up` again (it copies dev's config)",
            show_value=False,
        )
        for key in REVIEW_SECRETS
        if key not in config.secrets
    ]
    return problems
