"""`mentora-infra review up|down|list|sweep`: review stacks `pr-<N>` (gate/cli.py adds this).

Exit codes are the gate's (gate/exitcodes.py): 0 done/green, 1 failed, 2 bad input (nothing
touched), 7 busy (another review command of the stack runs), 130 interrupted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from gate.exitcodes import Exit
from gate.lock import GateBusy
from gate.runner import GateUsageError, console
from review.base import BASE_WAIT_S
from review.errors import ReviewError, ReviewUsage, TeardownIncomplete
from review.naming import ReviewNameError
from review.ttl import DEFAULT_TTL, parse_ttl

app = typer.Typer(
    help="Review stacks pr-<N>: a live, smoked, isolated copy of the backend per pull request.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
Pr = Annotated[str, typer.Argument(help="the pull request number, e.g. 42 (stack pr-42)")]
Base = Annotated[
    str,
    typer.Option("--base", help="local (this machine) or dev (cloud review stack, in CI)"),
]
LockWait = Annotated[
    float,
    typer.Option(
        "--lock-wait",
        min=0,
        help="seconds to wait for another review command of this stack (default: exit 7 at once)",
    ),
]


def _root() -> Path:
    from gate import cli  # the checkout gate/cli.py's callback chose (--repo, cwd)

    return cli.ROOT


def _pr(text: str) -> int:
    """The PR number of `text`; exit 2 naming the fix otherwise (before anything is touched)."""
    from review.naming import review_stack

    try:
        pr = int(text) if text.strip().isdigit() else -1
        review_stack(pr)
    except ReviewNameError as exc:
        console.print(f"[red]{str(exc).replace(repr(-1), repr(text))}[/]")
        raise typer.Exit(Exit.USAGE) from None
    return pr


def _finish(action: str, run: object) -> None:
    """Run `run()` and turn the review errors into the gate's exit codes."""
    try:
        code = run()  # type: ignore[operator]
    except (ReviewUsage, GateUsageError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(Exit.USAGE) from None
    except GateBusy as exc:
        console.print(f"[red]busy[/]: {exc}")
        raise typer.Exit(Exit.BUSY) from None
    except TeardownIncomplete as exc:
        console.print(f"[red]review {action}: {exc}[/]; run `mentora-infra review sweep` again")
        raise typer.Exit(Exit.FAILED) from None
    except ReviewError as exc:
        console.print(f"[red]review {action}: {exc}[/]")
        raise typer.Exit(Exit.FAILED) from None
    except KeyboardInterrupt:
        console.print(
            f"[red]review {action}: interrupted[/]; `mentora-infra review sweep` cleans up"
        )
        raise typer.Exit(Exit.INTERRUPTED) from None
    raise typer.Exit(int(code))  # type: ignore[call-overload]


@app.command()
def up(
    pr: Pr,
    ttl: Annotated[
        str, typer.Option("--ttl", help="remove it this long after the last up (s, m, h, d)")
    ] = DEFAULT_TTL,
    deadline: Annotated[float, typer.Option("--deadline", help="smoke deadline, seconds")] = 120.0,
    lock_wait: LockWait = 0.0,
    base_wait: Annotated[
        float,
        typer.Option("--base-wait", help="local: seconds to wait for the base stack `local`"),
    ] = BASE_WAIT_S,
    base: Base = "local",
    branch: Annotated[str, typer.Option("--branch", help="cloud: the PR's git branch")] = "",
    head: Annotated[str, typer.Option("--head", help="cloud: the PR's head commit sha")] = "",
) -> None:
    """Create or update stack pr-<PR> from the base stack `local`, then gate it on smoke."""
    from review import local

    number = _pr(pr)
    if base == "dev":
        from review import cloud

        _finish("up", lambda: cloud.up(_root(), number, branch, head, deadline, os.environ))
    try:
        ttl_s = parse_ttl(ttl)
    except ReviewUsage as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(Exit.USAGE) from None
    _finish(
        "up",
        lambda: local.up(_root(), number, ttl_s, lock_wait, deadline, base_wait, console.print),
    )


@app.command()
def down(pr: Pr, lock_wait: LockWait = 0.0, base: Base = "local") -> None:
    """Remove stack pr-<PR> whole (servers, data, state, files); exit 0 when already gone."""
    from review import local

    number = _pr(pr)
    if base == "dev":
        from review import cloud

        _finish("down", lambda: cloud.down(_root(), number, os.environ, typer.echo))
    _finish("down", lambda: local.down(_root(), number, lock_wait, typer.echo))


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Show every review stack: phase, age, TTL left, last gate, URLs."""
    import json
    from dataclasses import asdict

    from gate.runner import require_pulumi
    from review import local

    def show() -> Exit:
        require_pulumi()
        rows = local.listing(_root())
        if as_json:
            typer.echo(json.dumps([asdict(r) for r in rows]))
        elif not rows:
            typer.echo("no review stacks")
        else:
            typer.echo(f"{'stack':<10} {'phase':<10} {'age':>7} {'TTL left':>8}  last gate  urls")
            for row in rows:
                typer.echo(row.row())
        return Exit.GREEN

    _finish("list", show)


@app.command()
def sweep(
    open_prs: Annotated[
        list[str] | None,
        typer.Option("--open", help="an open pull request (repeat); others' stacks are removed"),
    ] = None,
    base: Base = "local",
) -> None:
    """Remove expired stacks, half-made ones (a killed up) and, with --open, closed PRs'."""
    from review import local

    # Repeated (--open 4 --open 7) or one list (--open "4,7"); --open "" means none is open.
    pieces = [p for value in open_prs or [] for p in value.replace(",", " ").split()]
    numbers = None if open_prs is None else [_pr(p) for p in pieces]
    if base == "dev":
        from review import cloud

        if numbers is None:
            console.print("[red]review sweep --base dev needs --open (the open pull requests)[/]")
            raise typer.Exit(Exit.USAGE)
        _finish("sweep", lambda: cloud.sweep(_root(), set(numbers), os.environ, typer.echo))
    _finish("sweep", lambda: local.sweep(_root(), numbers, typer.echo, None))
