"""`mentora-infra drift <stack>`: a refresh preview that never writes the state.

Runs `pulumi refresh --preview-only --json` through the gate's one Pulumi call
(`gate.ledger.Ledger.pulumi`: its own session, a bounded wait) while holding the stack's gate
lock, so no gate deploys under it; prints the drift table and, with `--json PATH`, writes the
JSON report. Exit 0 no drift, 6 drift found, 7 busy (another gate holds the lock, or
Pulumi's lock on the stack), 2 bad input, 1 error (pulumi failed; its last line is shown).

Why the state cannot be written: in the pinned CLI (pkg/backend/diy/backend.go, v3.274.1)
`Refresh` with `PreviewOnly` runs `apply` with `DryRun: true` and takes no stack lock, and
`apply` gives a dry run a `DiscardPersister` ("nothing is written to disk"); the integration
test compares every backend file byte for byte, before and after.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from drift import report
from drift.diff import Drift, DriftParseError, parse
from gate.exitcodes import Exit
from gate.ledger import Ledger, LedgerError
from gate.lock import GateBusy, gate_lock
from gate.runner import PULUMI_LOCKED, GateUsageError, console, read_stack_file, require_pulumi

REFRESH_PREVIEW = ("refresh", "--preview-only", "--json", "--non-interactive")
# A cloud stack's refresh reads every resource from its provider's API: longer than a tag call.
REFRESH_TIMEOUT_S = 600.0
# One engine event per line: only these carry each resource's outputs as read now (drift/diff.py).
# PULUMI_SKIP_CONFIRMATIONS (scripts/env.sh) counts as --yes, which --preview-only refuses.
CLI_ENV = {"PULUMI_ENABLE_STREAMING_JSON_PREVIEW": "1", "PULUMI_SKIP_CONFIRMATIONS": None}


@contextmanager
def _cli_env() -> Iterator[None]:
    """The environment the refresh preview needs, in this process only while it runs (the
    ledger's pulumi call inherits it); restored after."""
    saved = {name: os.environ.get(name) for name in CLI_ENV}
    try:
        for name, value in CLI_ENV.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def find(stack: str, root: Path, lock_wait: float = 0.0) -> list[Drift]:
    """The stack's drift, read under its gate lock; the state is not written.

    GateBusy when another gate (or Pulumi's stack lock) holds it, GateUsageError for a bad
    stack file or a missing CLI, LedgerError when pulumi fails, DriftParseError on output that
    is not a refresh preview."""
    require_pulumi()
    read_stack_file(stack, root)
    with gate_lock(stack, root, lock_wait):
        try:
            with _cli_env():
                output = Ledger(stack, root).pulumi(*REFRESH_PREVIEW, timeout_s=REFRESH_TIMEOUT_S)
        except LedgerError as exc:
            if f"no stack named '{stack}'" in str(exc):  # the CLI's words for an unknown stack
                raise GateUsageError(
                    f"drift: {exc}; pick an existing stack (pulumi stack ls) or create it first"
                ) from None
            if any(mark in str(exc) for mark in PULUMI_LOCKED):
                raise GateBusy(
                    f"{stack}: Pulumi's lock on the stack is held by another update; nothing was "
                    "read. Wait for it to end (if its process is gone: pulumi cancel)"
                ) from None
            raise
    return parse(output)


def drift(
    stack: Annotated[str, typer.Argument(help="stack name: local, dev or prod")],
    json_path: Annotated[
        Path | None, typer.Option("--json", help="write the JSON report here")
    ] = None,
    lock_wait: Annotated[
        float,
        typer.Option(
            "--lock-wait",
            help="seconds to wait for another gate of this stack (default: exit 7 at once)",
            min=0,
        ),
    ] = 0.0,
) -> None:
    """Show what changed out of band (refresh preview; the state is not written). Exit 0 no
    drift, 6 drift found."""
    from gate import cli as gate_cli  # the checkout the callback chose (imported at run time)

    try:
        drifts = find(stack, gate_cli.ROOT, lock_wait)
    except GateUsageError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(Exit.USAGE) from None
    except GateBusy as exc:
        console.print(f"[red]busy[/]: {exc}")
        raise typer.Exit(Exit.BUSY) from None
    except (LedgerError, DriftParseError) as exc:
        console.print(f"[red]drift: cannot read the stack[/]: {exc}")
        raise typer.Exit(Exit.FAILED) from None
    typer.echo(report.table(stack, drifts))
    if json_path is not None:
        try:
            report.write_json(json_path, stack, drifts)
        except OSError as exc:
            console.print(f"[red]drift: cannot write {json_path}[/]: {exc.strerror or exc}")
            raise typer.Exit(Exit.FAILED) from None
    raise typer.Exit(Exit.DRIFT if drifts else Exit.GREEN)
