"""`mentora-infra cloud drill|restore <stack>`: the cloud paths of restore drills and restores.

`drill` copies the stack's database read-only into a scratch Postgres and proves the copy
(recovery.cloud_drill); `restore` starts Supabase point-in-time recovery of the stack's project
(recovery.cloud_restore). Outputs come from `pulumi stack output` (source scripts/env.sh with
MENTORA_STACK=<stack> first), or, for `drill`, from a URL in the variable `--source-url-env`
names (never a URL on the command line: it holds the password).

Exit codes: 0 green (drill: every proof passed; restore: started), 1 failed, 2 bad input
(nothing touched), 130 interrupted (the scratch server is removed first).
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from recovery import cloud_drill, cloud_restore
from recovery.report import EXIT_USAGE, markdown, render, write_json
from smoke.outputs import PROJECT_ROOT, OutputsError, StackOutputs, load_from_stack
from smoke.redact import redact_url

app = typer.Typer(
    help="Cloud restore drills and point-in-time restores (Supabase).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
TOKEN_KEY = "mentora:supabaseAccessToken"
Stack = Annotated[str, typer.Argument(help="a cloud stack: dev or prod")]


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(EXIT_USAGE)


def _outputs(stack: str) -> StackOutputs:
    try:
        return load_from_stack(stack)
    except OutputsError as exc:
        raise _fail(f"{stack}: {exc}") from None


def stack_output(stack: str, name: str) -> str | None:
    """One non-secret output of `stack` (None when the stack does not export it)."""
    return _pulumi_value(["pulumi", "stack", "output", name, "--stack", stack])


def config_secret(stack: str, key: str) -> str | None:
    """A config secret of `stack`, read from pulumi's stdout (never echoed or logged)."""
    return _pulumi_value(["pulumi", "config", "get", key, "--show-secrets", "--stack", stack])


def _pulumi_value(command: list[str]) -> str | None:
    try:
        done = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


@app.command()
def drill(
    stack: Stack,
    source_url_env: Annotated[
        str | None,
        typer.Option(
            "--source-url-env",
            help="name of an environment variable holding the source database URL "
            "(default: the stack's database_url output)",
        ),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="write the JSON report here")
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option("--summary", help="append the markdown report here ($GITHUB_STEP_SUMMARY)"),
    ] = None,
) -> None:
    """Copy the database read-only (pg_dump) into a scratch Postgres and prove the copy."""
    if source_url_env:
        url = os.environ.get(source_url_env, "")
        if "://" not in url:
            raise _fail(f"drill {stack}: ${source_url_env} holds no database URL; export it first")
    else:
        outputs = _outputs(stack)
        if outputs.is_local:
            raise _fail(f"drill {stack}: a local stack; `mentora-infra drill {stack}` drills it")
        # `postgres`, not the app's login: after `rotate` that login cannot read the ledger.
        url = outputs.drill_source_url or outputs.database_url
    typer.echo(f"drill {stack}: copying {redact_url(url)} into a scratch Postgres")
    report = cloud_drill.run(stack, url)
    typer.echo(render(report))
    if json_path is not None:
        write_json(json_path, report)
    if summary is not None:
        with summary.open("a") as handle:
            handle.write(markdown(report))
    raise typer.Exit(report.exit_code())


@app.command()
def restore(
    stack: Stack,
    to: Annotated[
        str, typer.Option("--to", help="the time to recover to: ISO 8601 with a zone, or unix s")
    ],
    really_restore_prod: Annotated[
        bool,
        typer.Option("--really-restore-prod", help="required for prod: every later write is lost"),
    ] = False,
) -> None:
    """Start Supabase point-in-time recovery of the stack's project to --to (PITR window only;
    the token: SUPABASE_ACCESS_TOKEN, else the stack's mentora:supabaseAccessToken secret)."""
    try:
        at = cloud_restore.parse_time(to)
    except ValueError as exc:
        raise _fail(f"restore {stack}: --to {to!r}: {exc}") from None
    if at > datetime.now(UTC):
        raise _fail(f"restore {stack}: --to {at.isoformat()} is in the future")
    refusal = cloud_restore.guard(stack, at, really_restore_prod=really_restore_prod)
    if refusal:  # before the outputs are even read
        raise _fail(refusal)
    outputs = _outputs(stack)
    env = dict(os.environ)
    if not env.get(cloud_restore.TOKEN_ENV):
        env[cloud_restore.TOKEN_ENV] = config_secret(stack, TOKEN_KEY) or ""
    outcome = cloud_restore.run(
        stack,
        at,
        outputs,
        stack_output(stack, "supabase_url"),
        really_restore_prod=really_restore_prod,
        env=env,
    )
    typer.echo(outcome.message, err=outcome.code != 0)
    raise typer.Exit(outcome.code)
