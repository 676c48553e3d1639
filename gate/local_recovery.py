"""`mentora-infra drill` and `mentora-infra restore` of any stack (registered in gate/cli.py).
A local stack: recovery/local_drill.py and recovery/local_restore.py (its own backups). A cloud
stack (its `target` is cloud): recovery/cli.py's cloud paths (a read-only pg_dump copy; Supabase
point-in-time recovery), the restore holding the stack's gate lock too.

Exit codes: 0 the drill's proofs held / the restore and its gate were green; 1 a proof or the
restore failed; 2 bad input (nothing touched); 6 the stack's gate lock is held; 130 interrupted
(the scratch server is removed first).
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from gate.exitcodes import Exit
from recovery.errors import RecoveryError, RecoveryUsageError
from recovery.report import markdown, render, write_json

CLOUD_NOTE = "use `mentora-infra drill <stack>` / `mentora-infra restore <stack>`"
Stack = Annotated[str, typer.Argument(help="stack name: local, dev or prod")]
Json = Annotated[Path | None, typer.Option("--json", help="write the JSON report here")]
Summary = Annotated[
    Path | None,
    typer.Option("--summary", help="append the markdown report here ($GITHUB_STEP_SUMMARY)"),
]


def is_cloud(stack: str, root: Path) -> bool:
    from gate.runner import stack_target

    return stack_target(stack, root) != "local"


def parse_time(value: str, setting: str) -> datetime:
    """An ISO 8601 time (UTC when it names no zone), not in the future.

    >>> parse_time("2026-12-04T23:15:00Z", "--to").isoformat()
    '2026-12-04T23:15:00+00:00'
    """
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RecoveryUsageError(
            f"{setting} {value!r} is not an ISO 8601 time; write e.g. "
            f"{setting} 2026-12-04T23:15:00Z (UTC when no zone is given)"
        ) from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if at > datetime.now(UTC):
        raise RecoveryUsageError(f"{setting} {value} is in the future; give a past time")
    return at


def backup_output(stack: str, root: Path) -> dict[str, Any]:
    """The stack's `backup` output (secret: never printed)."""
    from gate.runner import Checkout, read_stack_file, stack_target

    if stack_target(stack, root) != "local":
        raise RecoveryUsageError(f"stack '{stack}' is a cloud stack: {CLOUD_NOTE}")
    config = read_stack_file(stack, root).get("config") or {}
    if str(config.get("mentora:backups", "true")).lower() == "false":
        raise RecoveryUsageError(
            f"stack '{stack}' keeps no backups (mentora:backups is false in Pulumi.{stack}.yaml: "
            "a disposable stack, such as a review stack); drill or restore a stack that keeps "
            "them, e.g. `mentora-infra drill local`"
        )
    command = ["pulumi", "stack", "output", "backup", "--json", "--show-secrets"]
    done = subprocess.run(
        [*command, "--stack", stack],
        cwd=root,
        env=Checkout(root).env(),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0 or not done.stdout.strip() or done.stdout.strip() == "null":
        raise RecoveryUsageError(
            f"stack '{stack}' has no `backup` output (not deployed with backups yet?); "
            "run `make up` first"
        )
    return dict(json.loads(done.stdout))


def refuse_rewinding_tenants(root: Path, stack: str) -> None:
    """RecoveryUsageError when review stacks keep their databases in the stack's cluster: a
    restore rewinds the whole cluster, theirs with it."""
    from review.base import refuse_with_tenants
    from review.errors import ReviewUsage

    try:
        refuse_with_tenants(root, stack, "restore")
    except ReviewUsage as exc:
        raise RecoveryUsageError(str(exc)) from None


def _root() -> Path:
    from gate import cli as gate_cli

    return gate_cli.ROOT


def drill(
    stack: Stack,
    at: Annotated[
        str | None,
        typer.Option("--at", help="recover to this ISO 8601 time (default: now, with markers)"),
    ] = None,
    json_path: Json = None,
    summary: Summary = None,
) -> None:
    """Restore the stack's backups into a scratch server and prove the data (never touches the
    live server). A cloud stack: its database copied read-only (pg_dump) and proven."""
    from gate.runner import console
    from recovery import cli as cloud
    from recovery.local_drill import drill as run_drill

    if is_cloud(stack, _root()):
        if at:
            console.print(f"[red]drill[/]: --at: a cloud drill copies {stack} as it is now")
            raise typer.Exit(Exit.USAGE)
        cloud.drill(stack, source_url_env=None, json_path=json_path, summary=summary)
    try:
        target = parse_time(at, "--at") if at else None
        backup = backup_output(stack, _root())
    except RecoveryUsageError as exc:
        console.print(f"[red]drill[/]: {exc}")
        raise typer.Exit(Exit.USAGE) from None
    try:
        report = run_drill(stack, backup, target, on_step=lambda s: console.print(f"drill: {s}"))
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]: the scratch server was stopped and removed")
        raise typer.Exit(Exit.INTERRUPTED) from None
    except Exception as exc:  # any other failure is still a report with exit 1
        console.print(f"[red]drill failed[/]: {type(exc).__name__}: {exc}")
        raise typer.Exit(Exit.FAILED) from None
    print(render(report))
    if json_path is not None:
        write_json(json_path, report)
    if summary is not None:
        with summary.open("a") as handle:
            handle.write(markdown(report))
    raise typer.Exit(report.exit_code())


def restore(
    stack: Stack,
    to: Annotated[str, typer.Option("--to", help="recover to this ISO 8601 time")] = "",
    really_restore_prod: Annotated[
        bool, typer.Option("--really-restore-prod", help="required to restore prod")
    ] = False,
) -> None:
    """Recover the stack's own database to TIME (previous data kept aside), then run the gate
    (deploy + smoke)."""
    from gate.gatekeeper import Gate, default_on_fail
    from gate.lock import GateBusy, gate_lock
    from gate.runner import console
    from recovery import aside
    from recovery.local_restore import restore as run_restore

    root = _root()
    if is_cloud(stack, root):
        from recovery import cli as cloud

        if stack == "prod" and not really_restore_prod:  # before anything, even the lock
            console.print("[red]restore[/]: prod loses every write after --to: add "
                          "--really-restore-prod")  # fmt: skip
            raise typer.Exit(Exit.USAGE)
        try:
            with gate_lock(stack, root):  # no gate deploys what is being rewound
                cloud.restore(stack, to, really_restore_prod=really_restore_prod)
        except GateBusy as exc:
            console.print(f"[red]busy[/]: {exc}")
            raise typer.Exit(Exit.BUSY) from None
    try:
        if stack == "prod" and not really_restore_prod:
            raise RecoveryUsageError(
                "restoring prod loses every write after --to: add --really-restore-prod"
            )
        if not to:
            raise RecoveryUsageError("--to TIME is required, e.g. --to 2026-12-04T23:15:00Z")
        target = parse_time(to, "--to")
        refuse_rewinding_tenants(root, stack)
        backup = backup_output(stack, root)
    except RecoveryUsageError as exc:
        console.print(f"[red]restore[/]: {exc}")
        raise typer.Exit(Exit.USAGE) from None
    try:
        with gate_lock(stack, root):
            done = run_restore(backup, target, on_step=lambda s: console.print(f"restore: {s}"))
    except GateBusy as exc:
        console.print(f"[red]busy[/]: {exc}")
        raise typer.Exit(Exit.BUSY) from None
    except (RecoveryError, OSError) as exc:
        console.print(f"[red]restore failed[/]: {exc}")
        raise typer.Exit(Exit.FAILED) from None
    # Recorded before the gate: a gate killed midway leaves the record for the next one.
    aside.record(stack, root, done.aside)
    console.print(
        f"restore: {stack} recovered to {target.isoformat()} from base backup {done.backup} "
        f"+ {done.wal_segments} WAL segment(s); previous data kept in {done.aside} until the "
        "next green gate after this one (every write after --to is only there: copy out what "
        "you need before)"
    )
    gate = Gate(stack, default_on_fail(stack), root=root, keep_aside=True)
    raise typer.Exit(int(gate.run()))
