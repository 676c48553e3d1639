"""Running the Pulumi CLI and the smoke suite as child processes, for one project checkout.

A checkout is the repo itself or a worktree of another commit (a rollback): `root` says which.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from gate.exitcodes import Exit

REPO = Path(__file__).resolve().parents[1]
# pytest's exit codes -> ours (4 usage error, 5 no tests collected, 2 interrupted).
_PYTEST_EXIT = {0: Exit.GREEN, 1: Exit.FAILED, 2: Exit.FAILED, 4: Exit.USAGE, 5: Exit.USAGE}
console = Console(stderr=True, soft_wrap=True)  # never cut a message in two
PULUMI_CANCEL_S = 120.0


class GateUsageError(Exception):
    """Bad input the user must fix (named, with the fix); the gate exits 2."""


def stack_target(stack: str, root: Path = REPO) -> str:
    """`mentora:target` of a stack's committed settings (`local` when the file says nothing)."""
    import yaml  # type: ignore[import-untyped]

    path = root / f"Pulumi.{stack}.yaml"
    try:
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    except OSError:
        return "local"
    return str(config.get("mentora:target", "local"))


def require_pulumi() -> None:
    """GateUsageError naming the fix when no Pulumi CLI is on PATH."""
    if shutil.which("pulumi") is None:
        raise GateUsageError(
            "pulumi CLI not on PATH: run scripts/bootstrap.sh, then `source scripts/env.sh`"
        )


@dataclass(frozen=True)
class Checkout:
    """A project checkout the gate runs Pulumi and smoke in."""

    root: Path = REPO

    def pulumi(self, stack: str, *args: str) -> int:
        """`pulumi <args> --stack <stack>` in this checkout, output shown; its exit code."""
        require_pulumi()
        if args[0] in ("preview", "up"):
            self._plugins_ready(stack)
        console.rule(f"pulumi {args[0]} --stack {stack}" + self._where())
        command = ["pulumi", *args, "--stack", stack]
        child = subprocess.Popen(command, cwd=self.root, env=self.env())
        try:
            return child.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached pulumi too: let it cancel gracefully (a kill could leave pending
            # operations in the state); a second SIGINT from us would make it stop hard.
            try:
                child.wait(timeout=PULUMI_CANCEL_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            raise

    def env(self) -> dict[str, str]:
        """The environment of its commands: another checkout's code comes first on the path,
        so a rollback's dynamic providers and smoke checks are that commit's own (the
        virtualenv's editable install points at this repository)."""
        env = dict(os.environ)
        if self.root != REPO:
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(self.root), env.get("PYTHONPATH")])
            )
        return env

    def _where(self) -> str:
        return "" if self.root == REPO else f" (in {self.root})"

    def _plugins_ready(self, stack: str) -> None:
        """Cloud stacks need the pinned provider plugins: install what is missing, or stop with
        the installer's one line (offline) instead of a deployment that fails half-way."""
        if stack_target(stack, self.root) != "cloud":
            return
        script = self.root / "scripts" / "install-plugins.sh"
        if not script.exists():
            script = REPO / "scripts" / "install-plugins.sh"
        if subprocess.run([str(script)], cwd=self.root, check=False).returncode != 0:
            raise GateUsageError("cloud provider plugins are missing (see the line above)")

    def smoke(
        self,
        stack: str,
        *,
        junit: Path | None = None,
        json_path: Path | None = None,
        read_only: bool = False,
        deadline: float = 120.0,
        html: Path | None = None,
    ) -> Exit:
        """Run this checkout's smoke suite; on deadline or SIGINT/SIGTERM let it clean up (the
        suite then reports every check, unfinished ones as interrupted)."""
        command = [sys.executable, "-m", "pytest", str(self.root / "smoke"), "--stack", stack]
        command += ["-p", "no:cacheprovider", "-q"]
        if junit:  # each check's entry carries its own output and log records
            command += ["--junitxml", str(junit), "-o", "junit_logging=all"]
        if html:
            command += ["--html", str(html), "--self-contained-html"]
        if json_path:
            command += ["--json-report", str(json_path)]
        if read_only:
            command.append("--read-only")
        label = f"smoke --stack {stack}" + (" (read-only)" if read_only else "") + self._where()
        console.rule(label)
        child = subprocess.Popen(command, cwd=self.root, env=self.env())

        def forward(signum: int, _frame: object) -> None:
            # pytest turns SIGINT into KeyboardInterrupt and still runs fixture finalizers.
            child.send_signal(signal.SIGINT)

        previous = signal.signal(signal.SIGTERM, forward)
        try:
            return _PYTEST_EXIT.get(child.wait(timeout=deadline), Exit.FAILED)
        except subprocess.TimeoutExpired:
            console.print(f"[red]smoke: overall deadline of {deadline:g}s hit[/]; stopping it")
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
            return Exit.DEADLINE
        except KeyboardInterrupt:
            child.send_signal(signal.SIGINT)
            child.wait(timeout=30)
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
