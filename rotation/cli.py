"""`mentora-infra rotate <stack> [database|cache|storage|errors|all]`.

Local stacks: each credential is replaced by a second one, the env and the app switched to it,
smoke run, then the old one revoked and shown refused (rotation/engine.py), under the stack's
gate lock (exit 7 while another gate or rotation holds it). Cloud stacks: the storage key
rotates through a gated deploy (rotation/cloud_storage.py); rotation/cloud.py says what the
other providers' APIs allow (not wired yet).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from gate import interrupts
from gate.exitcodes import Exit
from gate.lock import GateBusy, gate_lock
from gate.runner import GateUsageError, console, read_stack_file, require_pulumi, stack_target
from rotation import described


class What(StrEnum):
    """Which credentials to rotate."""

    DATABASE = "database"
    CACHE = "cache"
    STORAGE = "storage"
    ERRORS = "errors"
    ALL = "all"


def rotate(
    stack: Annotated[str, typer.Argument(help="stack name: local, dev or prod")],
    what: Annotated[What, typer.Argument(help="which credentials to rotate")] = What.ALL,
    lock_wait: Annotated[
        float,
        typer.Option("--lock-wait", help="seconds to wait for another gate of this stack", min=0),
    ] = 0.0,
) -> None:
    """Rotate the stack's credentials without dropping a request; the old ones end refused."""
    from gate import cli as gate_cli

    root = gate_cli.ROOT
    try:
        require_pulumi()
        if not (root / f"Pulumi.{stack}.yaml").is_file():
            raise GateUsageError(
                f"no stack file Pulumi.{stack}.yaml in {root}; name a stack of this checkout "
                "(local, dev or prod)"
            )
        base = str((read_stack_file(stack, root).get("config") or {}).get("mentora:baseStack", ""))
        target = stack_target(stack, root)
    except GateUsageError as exc:
        console.print(f"[red]rotate:[/] {exc}")
        raise typer.Exit(Exit.USAGE) from None
    if target != "local":
        from rotation import cloud

        if (refusal := cloud.refused(stack, what.value, console.print)) is not None:
            raise typer.Exit(refusal)
    from rotation.engine import ORDER

    names = list(ORDER) if what is What.ALL else [what.value]
    for kind in [k for k in ("database", "storage", "errors") if base and k in names]:
        # A tenant of its base's servers (stacks/local_tenant.py): its own login or IAM user,
        # which `review up` makes anew for a new stack.
        note = (
            f"{stack}'s {kind} is a tenant of {base}'s servers with a credential of its own; "
            f"rotate the base's: mentora-infra rotate {base} {kind}"
        )
        if what is not What.ALL:
            console.print(f"[red]rotate:[/] {note}")
            raise typer.Exit(Exit.USAGE)
        console.print(f"rotate: skipping {kind}: {note}")
        names.remove(kind)
    with interrupts.handled():
        try:
            with gate_lock(stack, root, lock_wait):
                code = (
                    _rotate_locked(stack, root, names)
                    if target == "local"
                    else _rotate_cloud_locked(stack, root, what.value)
                )
        except GateBusy as exc:
            console.print(f"[red]rotate busy[/]: {exc} (exit {int(Exit.BUSY)})")
            raise typer.Exit(Exit.BUSY) from None
        except KeyboardInterrupt:
            console.print(
                f"[red]rotate: interrupted[/]; the next `mentora-infra rotate {stack}`"
                + (f" or `mentora-infra up {stack}`" if target == "local" else "")
                + " finishes or undoes it (the app keeps working credentials meanwhile)"
            )
            raise typer.Exit(Exit.INTERRUPTED) from None
    raise typer.Exit(code)


def _rotate_cloud_locked(stack: str, root: object, what: str) -> Exit:
    from pathlib import Path

    from rotation import cloud

    assert isinstance(root, Path)
    try:
        return Exit(cloud.main(stack, root, what, console.print))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a provider's or pulumi's error, without locals
        from rotation.journal import Journal

        started = Journal(stack, root).path.exists()
        console.print(
            f"[red]rotate failed:[/] {described(exc)}; "
            + (
                f"the next `mentora-infra rotate {stack} {what}` finishes or undoes what was "
                "started (the app keeps a working key meanwhile)"
                if started
                else "nothing was changed"
            )
        )
        return Exit.FAILED


def _rotate_locked(stack: str, root: object, names: list[str]) -> Exit:
    from pathlib import Path

    from gate.runner import Checkout
    from rotation.engine import rotate as run
    from rotation.journal import JournalDamaged
    from rotation.kinds import NotRefused
    from rotation.state import StateError
    from rotation.switch import SwitchFailed

    assert isinstance(root, Path)

    def smoke() -> bool:
        # The services whose credentials changed, and the app that uses them.
        services = ("app", *names)
        code = Checkout(root).smoke(stack, read_only=True, deadline=120.0, services=services)
        return int(code) == 0

    try:
        outcome = run(stack, root, names, smoke, console.print)
    except (StateError, SwitchFailed, NotRefused, JournalDamaged) as exc:
        console.print(f"[red]rotate failed:[/] {exc}")
        return Exit.FAILED
    except Exception as exc:  # noqa: BLE001 - a server's error, shown without a traceback
        # No traceback: typer's would print the locals, and those hold credentials.
        console.print(
            f"[red]rotate failed:[/] {described(exc)}; "
            f"the next `mentora-infra rotate {stack}` finishes or undoes what was started"
        )
        return Exit.FAILED
    if not outcome.ok:
        console.print(f"[red]rotate failed:[/] {outcome.message}")
        return Exit.FAILED
    console.print(
        f"rotated {', '.join(outcome.kinds)} of {stack} in {outcome.seconds:.1f}s; "
        f"old credentials refused: {len(outcome.refused)}/{len(outcome.kinds)}"
    )
    console.print("steps (s): " + ", ".join(f"{k} {v:.1f}" for k, v in outcome.steps.items()))
    return Exit.GREEN
