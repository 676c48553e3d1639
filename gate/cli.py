"""`mentora-infra`: one entry point for previewing, deploying and gating a stack on smoke.

Exit codes (gate/exitcodes.py):
  0 green; 1 failed; 2 bad input; 3 the smoke deadline; 4 failed and rolled back; 5 held;
  6 drift found (`drift`); 7 busy (another gate or update holds the stack); 130 interrupted
  (SIGINT/SIGTERM).
"""

from __future__ import annotations

import json as jsonlib
import os
from pathlib import Path
from typing import Annotated

import typer

from drift.cli import drift
from gate import interrupts, local_recovery
from gate.exitcodes import Exit, table
from gate.gatekeeper import Gate, OnFail, default_on_fail
from gate.ledger import Ledger, LedgerError
from gate.lock import GateBusy
from gate.runner import REPO, Checkout, GateUsageError, console, require_pulumi
from gate.workdir import checkout_root
from recovery import cli as recovery_cli
from review.cli import app as review_app
from rotation.cli import rotate

ROOT = REPO
OK, FAILED, USAGE, DEADLINE = Exit.GREEN, Exit.FAILED, Exit.USAGE, Exit.DEADLINE

app = typer.Typer(
    help="Deploy gate for the Mentora backend: every deploy is followed by the smoke suite.\n\n"
    # click rewraps every paragraph; "\b" on a paragraph's first line keeps it as written.
    f"Exit codes:\n\n\b\n{table()}",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(review_app, name="review")
Stack = Annotated[str, typer.Argument(help="stack name: local, dev or prod")]
Junit = Annotated[Path | None, typer.Option("--junit", help="write a JUnit XML report here")]
Json = Annotated[Path | None, typer.Option("--json", help="write a JSON report here")]
Html = Annotated[
    Path | None, typer.Option("--html", help="write an HTML report here (one file, for a browser)")
]
ReadOnly = Annotated[bool, typer.Option("--read-only", help="only checks that write nothing")]
Deadline = Annotated[float, typer.Option("--deadline", help="overall smoke deadline, seconds")]
OnFailOption = Annotated[
    OnFail | None,
    typer.Option(
        "--on-fail",
        help="after a failed gate: report, hold or rollback "
        "(default: hold for prod, report otherwise)",
    ),
]
AllowDataLoss = Annotated[
    bool,
    typer.Option(
        "--allow-data-loss",
        help="let a change replace a local server that holds data (a new data dir, database, "
        "bucket...); refused otherwise. A rollback never passes it",
    ),
]
OverrideHold = Annotated[
    bool, typer.Option("--override-hold", help="deploy although the stack (or its source) is held")
]
LockWait = Annotated[
    float,
    typer.Option(
        "--lock-wait",
        help="seconds to wait for another gate of this stack to finish (default: exit 7 at once)",
        min=0,
    ),
]


def _pulumi(stack: str, *args: str) -> int:
    try:
        with interrupts.handled():
            return Checkout(ROOT).pulumi(stack, *args)
    except GateUsageError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(USAGE) from None
    except GateBusy as exc:
        console.print(f"[red]busy[/]: {exc}")
        raise typer.Exit(Exit.BUSY) from None
    except KeyboardInterrupt:  # interrupts.Interrupted: pulumi was cancelled gracefully
        console.print(f"[red]interrupted[/]: pulumi {args[0]} of {stack} was cancelled")
        raise typer.Exit(Exit.INTERRUPTED) from None


@app.command()
def preview(stack: Stack) -> None:
    """Show what `up` would change (pulumi preview --diff)."""
    raise typer.Exit(OK if _pulumi(stack, "preview", "--diff") == 0 else FAILED)


@app.command()
def up(
    stack: Stack,
    junit: Junit = None,
    json: Json = None,
    read_only: ReadOnly = False,
    deadline: Deadline = 120.0,
    on_fail: OnFailOption = None,
    override_hold: OverrideHold = False,
    lock_wait: LockWait = 0.0,
    allow_data_loss: AllowDataLoss = False,
) -> None:
    """Deploy the stack (refreshing first), gate it on the smoke suite, act on a failure."""
    gate = Gate(
        stack,
        on_fail or default_on_fail(stack),
        deadline=deadline,
        read_only=read_only,
        junit=junit,
        json_path=json,
        root=ROOT,
        lock_wait=lock_wait,
        allow_data_loss=allow_data_loss,
    )
    try:
        code = gate.run(override_hold=override_hold)
    except GateUsageError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(USAGE) from None
    except LedgerError as exc:
        console.print(f"[red]gate: cannot read or write the stack's tags[/]: {exc}")
        raise typer.Exit(FAILED) from None
    except KeyboardInterrupt:  # a signal outside the gate's own handling (before it started)
        console.print(f"[red]interrupted[/]: see `mentora-infra status {stack}`")
        raise typer.Exit(Exit.INTERRUPTED) from None
    if json is not None:
        _add_gate_outcome(json, gate)
    raise typer.Exit(int(code))


def _add_gate_outcome(path: Path, gate: Gate) -> None:
    """Put the gate's outcome into the JSON report beside smoke's checks."""
    try:
        document = jsonlib.loads(path.read_text())
    except (OSError, ValueError):
        document = {}
    document["gate"] = {"stack": gate.stack, "outcome": gate.outcome, **gate.facts}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(jsonlib.dumps(document, indent=2) + "\n")
    except OSError as exc:
        console.print(f"[red]gate: cannot write the JSON report {path}[/]: {exc.strerror or exc}")


@app.command()
def smoke(
    stack: Stack,
    junit: Junit = None,
    json: Json = None,
    read_only: ReadOnly = False,
    deadline: Deadline = 120.0,
    html: Html = None,
) -> None:
    """Run the smoke suite against the stack's outputs."""
    try:
        code = Checkout(ROOT).smoke(
            stack, junit=junit, json_path=json, read_only=read_only, deadline=deadline, html=html
        )
    except KeyboardInterrupt:
        code = FAILED
    raise typer.Exit(int(code))


@app.command()
def status(
    stack: Stack,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Show the stack's last-known-good deployment, any hold and the last gate's result."""
    ledger = Ledger(stack, ROOT)
    try:
        require_pulumi()
        lkg, hold, last = ledger.last_known_good(), ledger.hold(), ledger.last_gate()
    except (LedgerError, GateUsageError) as exc:
        console.print(f"[red]status:[/] {exc}")
        raise typer.Exit(USAGE) from None
    if as_json:
        from dataclasses import asdict

        facts = {"lkg": lkg, "hold": hold, "last_gate": last}
        typer.echo(jsonlib.dumps({k: asdict(v) if v else None for k, v in facts.items()}))
        raise typer.Exit(OK)
    rows = [
        ("last-known-good", f"{lkg.commit[:12]} (update {lkg.version}, {lkg.at})" if lkg else "-"),
        ("hold", f"{hold.reason} (since {hold.at})" if hold else "-"),
        ("last gate", f"{last.outcome} ({last.commit[:12]}, {last.at})" if last else "-"),
    ]
    typer.echo(f"stack {stack}")
    for name, value in rows:
        typer.echo(f"  {name:<16} {value}")
    raise typer.Exit(OK)


@app.command()
def release(stack: Stack) -> None:
    """Lift the stack's hold, so `up` may deploy it (and the stacks promoted from it) again."""
    try:
        require_pulumi()
        lifted = Ledger(stack, ROOT).release()
    except (LedgerError, GateUsageError) as exc:
        console.print(f"[red]release:[/] {exc}")
        raise typer.Exit(USAGE) from None
    typer.echo(f"{stack}: hold lifted" if lifted else f"{stack}: was not held")
    raise typer.Exit(OK)


def _refuse_with_review_stacks(stack: str, action: str) -> None:
    """Exit 2 before anything is touched when review stacks keep their databases in `stack`'s
    Postgres (review/base.py)."""
    from review.base import refuse_with_tenants
    from review.errors import ReviewUsage

    try:
        refuse_with_tenants(ROOT, stack, action)
    except ReviewUsage as exc:
        console.print(f"[red]{action} refused[/]: {exc}")
        raise typer.Exit(USAGE) from None


@app.command()
def destroy(
    stack: Stack,
    really_destroy_prod: Annotated[
        bool, typer.Option("--really-destroy-prod", help="required to destroy the prod stack")
    ] = False,
    lock_wait: LockWait = 0.0,
) -> None:
    """Delete every resource of the stack (local: stop the servers and delete their data);
    waits its turn behind a running gate, rotation or drift (exit 7)."""
    from gate.lock import GateBusy, gate_lock

    if stack == "prod" and not really_destroy_prod:
        console.print(
            "[red]refusing to destroy prod[/]: pass --really-destroy-prod "
            "(protected resources still refuse until unprotected)"
        )
        raise typer.Exit(USAGE)
    _refuse_with_review_stacks(stack, "destroy")
    try:
        with gate_lock(stack, ROOT, lock_wait):
            code = _pulumi(stack, "destroy", "--yes", "--skip-preview")
    except GateBusy as exc:
        console.print(f"[red]destroy busy[/]: {exc} (exit {int(Exit.BUSY)})")
        raise typer.Exit(Exit.BUSY) from None
    raise typer.Exit(OK if code == 0 else FAILED)


@app.command()
def env(
    stack: Stack,
    path: Annotated[Path, typer.Option("--path", help="file to write")] = Path(".env.local"),
) -> None:
    """Write the stack's `env` output as a dotenv file (mode 0600)."""
    from components.local.env_file import render, write_private
    from smoke.outputs import OutputsError, load_from_stack
    from smoke.redact import Redactor

    try:
        outputs = load_from_stack(stack, Redactor())
    except OutputsError as exc:
        console.print(f"[red]env:[/] {exc}")
        raise typer.Exit(USAGE) from None
    write_private(path, render(outputs.env))
    console.print(f"wrote {len(outputs.env)} variables of '{stack}' to {path} (mode 0600)")


@app.command()
def watch(
    stack: Stack,
    every: Annotated[str, typer.Option("--every", help="time between rounds: 60s, 5m, 2")] = "60s",
    once: Annotated[bool, typer.Option("--once", help="one round: exit 0 healthy, 1 not")] = False,
    metrics_port: Annotated[
        int | None, typer.Option("--metrics-port", help="serve Prometheus metrics on 127.0.0.1")
    ] = None,
    textfile: Annotated[
        Path | None, typer.Option("--textfile", help="write the metrics here (atomically)")
    ] = None,
    outputs_file: Annotated[
        Path | None,
        typer.Option("--outputs-file", help="read the outputs from this file, not from pulumi"),
    ] = None,
) -> None:
    """Run smoke's read-only checks every --every; print each check's up/down transitions."""
    from gate import watch as watching

    try:
        code = watching.main(stack, every, once, metrics_port, textfile, outputs_file)
    except watching.WatchUsage as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(USAGE) from None
    except KeyboardInterrupt:
        typer.echo(f"watch {stack}: stopped (SIGINT/SIGTERM)")
        raise typer.Exit(Exit.INTERRUPTED) from None
    raise typer.Exit(code)


app.command()(rotate)
app.command()(drift)


@app.callback()
def _checkout(
    repo: Annotated[
        Path | None,
        typer.Option(
            "--repo",
            envvar="MENTORA_REPO",
            help="the checkout to act on (default: the one the current directory is in)",
        ),
    ] = None,
) -> None:
    """Act on the checkout the command runs in, never on the installed package's."""
    global ROOT
    try:
        ROOT = checkout_root(Path.cwd(), repo)
    except GateUsageError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(USAGE) from None
    os.chdir(ROOT)


# Cloud restore drills and PITR restores (recovery/cli.py): `mentora-infra cloud drill prod`.
app.add_typer(recovery_cli.app, name="cloud")
# Local ones (gate/local_recovery.py): `mentora-infra drill local`, `restore local --to TIME`.
app.command("drill")(local_recovery.drill)
app.command("restore")(local_recovery.restore)


def main() -> None:
    # SIGTERM is handled like Ctrl-C in every command (typer ends a KeyboardInterrupt with 130,
    # Exit.INTERRUPTED); `up` and pulumi commands also cancel pulumi gracefully first.
    with interrupts.handled():
        app()
