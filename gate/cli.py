"""`mentora-infra`: one entry point for previewing, deploying and gating a stack on smoke.

Exit codes: 0 all green; 1 a check (or the deployment) failed; 2 bad config, bad arguments or a
missing output (named); 3 the smoke suite's overall deadline was hit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
OK, FAILED, USAGE, DEADLINE = 0, 1, 2, 3
# pytest's exit codes -> ours (4 usage error, 5 no tests collected, 2 interrupted).
_PYTEST_EXIT = {0: OK, 1: FAILED, 2: FAILED, 4: USAGE, 5: USAGE}

console = Console(stderr=True)
app = typer.Typer(
    help="Deploy gate for the Mentora backend: every deploy is followed by the smoke suite.",
    no_args_is_help=True,
    add_completion=False,
)
Stack = Annotated[str, typer.Argument(help="stack name: local, dev or prod")]
Junit = Annotated[Path | None, typer.Option("--junit", help="write a JUnit XML report here")]
Json = Annotated[Path | None, typer.Option("--json", help="write a JSON report here")]
ReadOnly = Annotated[bool, typer.Option("--read-only", help="only checks that write nothing")]
Deadline = Annotated[float, typer.Option("--deadline", help="overall smoke deadline, seconds")]


def stack_target(stack: str) -> str:
    """`mentora:target` of a stack's committed settings (`local` when the file says nothing)."""
    import yaml

    path = ROOT / f"Pulumi.{stack}.yaml"
    try:
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    except OSError:
        return "local"
    return str(config.get("mentora:target", "local"))


def _plugins_ready(stack: str) -> None:
    """Cloud stacks need the pinned provider plugins: install what is missing, or stop with the
    installer's one line (offline) instead of a deployment that fails half-way."""
    if stack_target(stack) != "cloud":
        return
    done = subprocess.run([str(ROOT / "scripts" / "install-plugins.sh")], cwd=ROOT, check=False)
    if done.returncode != 0:
        raise typer.Exit(USAGE)


def _pulumi(stack: str, *args: str) -> int:
    if shutil.which("pulumi") is None:
        console.print(
            "[red]pulumi CLI not on PATH[/]: run scripts/bootstrap.sh, then `source scripts/env.sh`"
        )
        raise typer.Exit(USAGE)
    if args[0] in ("preview", "up"):
        _plugins_ready(stack)
    console.rule(f"pulumi {args[0]} --stack {stack}")
    return subprocess.run(["pulumi", *args, "--stack", stack], cwd=ROOT, check=False).returncode


def run_smoke(
    stack: str, junit: Path | None, json_path: Path | None, read_only: bool, deadline: float
) -> int:
    """Run the smoke suite in a child pytest; on deadline or SIGINT/SIGTERM let it clean up."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(ROOT / "smoke"),
        "--stack",
        stack,
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    if junit:
        command += ["--junitxml", str(junit)]
    if json_path:
        command += ["--json-report", str(json_path)]
    if read_only:
        command.append("--read-only")
    console.rule(f"smoke --stack {stack}" + (" (read-only)" if read_only else ""))
    child = subprocess.Popen(command, cwd=ROOT)

    def forward(signum: int, _frame: object) -> None:
        # pytest turns SIGINT into KeyboardInterrupt and still runs fixture finalizers.
        child.send_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        return _PYTEST_EXIT.get(child.wait(timeout=deadline), FAILED)
    except subprocess.TimeoutExpired:
        console.print(f"[red]smoke: overall deadline of {deadline:g}s hit[/]; stopping the suite")
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
        return DEADLINE
    except KeyboardInterrupt:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
        return FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)


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
) -> None:
    """Deploy the stack (refreshing first), then gate it on the smoke suite."""
    if _pulumi(stack, "up", "--yes", "--skip-preview", "--refresh") != 0:
        console.print(f"[red]deploy of '{stack}' failed[/]: smoke not run")
        raise typer.Exit(FAILED)
    code = run_smoke(stack, junit, json, read_only, deadline)
    console.print("[green]gate passed[/]" if code == OK else f"[red]gate failed (exit {code})[/]")
    raise typer.Exit(code)


@app.command()
def smoke(
    stack: Stack,
    junit: Junit = None,
    json: Json = None,
    read_only: ReadOnly = False,
    deadline: Deadline = 120.0,
) -> None:
    """Run the smoke suite against the stack's outputs."""
    raise typer.Exit(run_smoke(stack, junit, json, read_only, deadline))


@app.command()
def destroy(
    stack: Stack,
    really_destroy_prod: Annotated[
        bool, typer.Option("--really-destroy-prod", help="required to destroy the prod stack")
    ] = False,
) -> None:
    """Delete every resource of the stack (local: stop the servers and delete their data)."""
    if stack == "prod" and not really_destroy_prod:
        console.print(
            "[red]refusing to destroy prod[/]: pass --really-destroy-prod "
            "(protected resources still refuse until unprotected)"
        )
        raise typer.Exit(USAGE)
    code = _pulumi(stack, "destroy", "--yes", "--skip-preview")
    raise typer.Exit(OK if code == 0 else FAILED)


@app.command()
def env(
    stack: Stack,
    path: Annotated[Path, typer.Option("--path", help="file to write")] = ROOT / ".env.local",
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


def main() -> None:
    os.chdir(ROOT)
    app()
