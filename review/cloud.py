"""`review up`, `down` and `sweep` of cloud review stacks (`pr-<N>`, base `dev`), in CI.

A cloud review stack's settings are dev's, copied by the Pulumi CLI (`pulumi config cp`, which
re-encrypts dev's secrets for the new stack: no `Pulumi.pr-<N>.yaml` is written by hand or
committed), minus dev's domains, plus the pull request's branch and head (stacks/review_cloud.py
reads them). It is deployed and smoked by the same gate as any stack; the gate never promotes it
(gate/promote.py). `down` destroys every resource, then removes the stack, and succeeds when the
stack is already gone; `sweep` does that for every review stack whose pull request is not open.

Every credential is named before anything is touched (`ReviewUsage`, exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from gate.exitcodes import Exit
from gate.gatekeeper import Gate, OnFail
from gate.runner import require_pulumi
from review import pulumi_cli
from review.errors import ReviewError, ReviewUsage
from review.naming import CLOUD_BASE, parse_review_stack, review_stack

NAMESPACE = "mentora"
DESTROY_TIMEOUT_S = 1800.0  # a Supabase branch and a Vercel deployment take minutes to go
# Settings of dev that must not carry over: its custom domains belong to dev's production.
NOT_COPIED = ("domains",)
# Environment a cloud review command needs: name -> what it is and where it comes from.
CREDENTIALS: dict[str, str] = {
    "PULUMI_CONFIG_PASSPHRASE": "the passphrase of dev's config secrets (copied to the review "
    "stack) and of the review stack's own",
    "AWS_ACCESS_KEY_ID": "the AWS key the program's AWS provider uses (IAM user and policy)",
    "AWS_SECRET_ACCESS_KEY": "the secret of that AWS key",
}
# One of these says where the state is (scripts/env.sh): a Pulumi Cloud token or a backend URL.
BACKEND = ("PULUMI_ACCESS_TOKEN", "MENTORA_BACKEND_URL")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


def missing_credentials(environ: Mapping[str, str]) -> list[str]:
    """One line per credential the environment lacks, naming it and the fix (values unread).

    >>> missing_credentials({"PULUMI_CONFIG_PASSPHRASE": "x"})[0].split(":")[0]
    'AWS_ACCESS_KEY_ID'
    """
    fix = "set it as a secret of the workflow's environment (or export it locally)"
    lines = [
        f"{name}: missing ({what}); {fix}"
        for name, what in CREDENTIALS.items()
        if not environ.get(name)
    ]
    if not any(environ.get(name) for name in BACKEND):
        lines.append(
            f"{' or '.join(BACKEND)}: missing (where the review stack's state is kept); {fix}"
        )
    return lines


def check_inputs(
    environ: Mapping[str, str], branch: str | None = None, head: str | None = None
) -> None:
    """`ReviewUsage` naming every missing credential and bad branch/head, before anything runs."""
    problems = missing_credentials(environ)
    if branch is not None and not _BRANCH.match(branch):
        problems.append(f"--branch {branch!r}: not a git branch name; give the PR's head branch")
    if head is not None and not _SHA.match(head):
        problems.append(f"--head {head!r}: not a full 40-character commit sha; give the PR's head")
    if problems:
        raise ReviewUsage("cloud review stack: " + "; ".join(problems) + " (nothing was touched)")


def config_commands(stack: str, branch: str, head: str) -> list[list[str]]:
    """The Pulumi CLI calls that derive the review stack's settings from dev's."""
    commands = [["config", "cp", "--stack", CLOUD_BASE, "--dest", stack]]
    commands += [["config", "rm", f"{NAMESPACE}:{key}", "--stack", stack] for key in NOT_COPIED]
    commands += [
        ["config", "set", f"{NAMESPACE}:reviewBranch", branch, "--stack", stack],
        ["config", "set", f"{NAMESPACE}:appCommit", head, "--stack", stack],
    ]
    return commands


def _pulumi(root: Path, *args: str, timeout: float = pulumi_cli.TIMEOUT_S, ok: str = "") -> None:
    done = pulumi_cli._run(root, *args, timeout=timeout)  # noqa: SLF001 - this package's own helper
    if done.returncode != 0 and not (ok and ok in done.stderr):
        raise ReviewError(f"pulumi {' '.join(args[:2])} failed: {done.stderr.strip()[-500:]}")


def up(
    root: Path, pr: int, branch: str, head: str, deadline: float, environ: Mapping[str, str]
) -> Exit:
    """Create or update cloud stack `pr-<pr>` from dev's settings, then gate it on smoke."""
    stack = review_stack(pr)
    check_inputs(environ, branch, head)
    require_pulumi()
    pulumi_cli.ensure_stack(root, stack)
    for args in config_commands(stack, branch, head):
        _pulumi(root, *args, ok="configuration key not found" if args[1] == "rm" else "")
    # The smoke report the pull request comment's table is made from (review/comment.py).
    report = report_path(root, stack)
    gate = Gate(stack, OnFail.REPORT, deadline=deadline, root=root, json_path=report)
    return gate.run()


def report_path(root: Path, stack: str) -> Path:
    """Where `up` has the gate write smoke's JSON report."""
    return root / "reports" / f"{stack}.json"


def down(root: Path, pr: int, environ: Mapping[str, str], say: Callable[[str], None]) -> Exit:
    """Destroy every resource of `pr-<pr>`, then remove the stack; GREEN when already gone."""
    stack = review_stack(pr)
    check_inputs(environ)
    require_pulumi()
    if stack not in pulumi_cli.review_stacks(root):
        say(f"{stack}: no such review stack (already gone); nothing to do")
        return Exit.GREEN
    _pulumi(root, "destroy", "--yes", "--skip-preview", "--stack", stack, timeout=DESTROY_TIMEOUT_S)
    pulumi_cli.remove_stack(root, stack)
    say(f"{stack}: destroyed and removed (its branch, cache, key, variables and deployment)")
    return Exit.GREEN


def sweep(
    root: Path, open_prs: set[int], environ: Mapping[str, str], say: Callable[[str], None]
) -> Exit:
    """`down` of every review stack whose pull request is not open; FAILED if any failed."""
    check_inputs(environ)
    require_pulumi()
    code = Exit.GREEN
    for stack in sorted(pulumi_cli.review_stacks(root)):
        pr = parse_review_stack(stack)
        if pr is None or pr in open_prs:
            continue
        try:
            down(root, pr, environ, say)
        except ReviewError as exc:  # the others are still swept; the run fails at the end
            say(f"{stack}: not removed: {exc}")
            code = Exit.FAILED
    return code
