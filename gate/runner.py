"""Running the Pulumi CLI and the smoke suite as child processes, for one project checkout.

A checkout is the repo itself or a worktree of another commit (a rollback): `root` says which.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rich.console import Console

from components.local.errors import ALLOW_DATA_LOSS_ENV
from gate.exitcodes import Exit
from gate.lock import GateBusy

REPO = Path(__file__).resolve().parents[1]
# pytest's exit codes -> ours (4 usage error, 5 no tests collected, 2 interrupted: also a
# collection error, so a failure unless the gate forwarded a signal to it).
_PYTEST_EXIT = {0: Exit.GREEN, 1: Exit.FAILED, 2: Exit.FAILED, 4: Exit.USAGE, 5: Exit.USAGE}
console = Console(stderr=True, soft_wrap=True)  # never cut a message in two
PULUMI_CANCEL_S = 120.0
PREFLIGHT_TIMEOUT_S = 60.0
# What the Pulumi CLI (v3.274.1) says when another update holds the stack: the file backend's
# lock (pkg/backend/diy/lock.go checkForLock) and Pulumi Cloud's 409, which the CLI wraps in
# backenderr.ConflictingUpdateError with a link to the update-conflicts troubleshooting page.
PULUMI_LOCKED = (
    "the stack is currently locked",
    "/troubleshooting/common-issues/update-conflicts/",
)


class GateUsageError(Exception):
    """Bad input the user must fix (named, with the fix); the gate exits 2."""


def read_stack_file(stack: str, root: Path = REPO) -> dict[str, Any]:
    """The stack's settings file as a mapping ({} when absent); GateUsageError naming the file,
    the line and the fix when it is not valid YAML."""
    import yaml  # type: ignore[import-untyped]

    path = root / f"Pulumi.{stack}.yaml"
    try:
        document = yaml.safe_load(path.read_text())
    except OSError:
        return {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise GateUsageError(
            f"{path.name}:{where}: {problem}; fix the file (it must be YAML with a `config:` "
            f"mapping), nothing was changed"
        ) from None
    if document is not None and not isinstance(document, dict):
        raise GateUsageError(f"{path.name}: is not a YAML mapping; nothing was changed")
    return document or {}


def stack_target(stack: str, root: Path = REPO) -> str:
    """`mentora:target` of a stack's committed settings (`local` when the file says nothing)."""
    config = read_stack_file(stack, root).get("config") or {}
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
    allow_data_loss: bool = False
    """Let a change replace a local server that holds data (`--allow-data-loss`); never set for
    a rollback, and never inherited from the caller's environment."""

    def pulumi(self, stack: str, *args: str) -> int:
        """`pulumi <args> --stack <stack>` in this checkout, output shown; its exit code.

        GateUsageError for a bad settings file or bad config (before pulumi starts), GateBusy
        when Pulumi's lock on the stack is held by another update. On SIGINT/SIGTERM pulumi's
        whole process group gets one SIGINT (its graceful cancel) and the interrupt goes on."""
        require_pulumi()
        read_stack_file(stack, self.root)
        if args[0] in ("preview", "up"):
            self.preflight(stack)
            self._plugins_ready(stack)
        console.rule(f"pulumi {args[0]} --stack {stack}" + self._where())
        command = ["pulumi", *args, "--stack", stack]
        # Its own process group: a signal to the gate alone (SIGTERM from CI, kill <pid>) still
        # reaches pulumi and its plugins, as a Ctrl-C in a terminal reaches the whole group.
        # No terminal input: a background group that sets the terminal raw (Pulumi's
        # interactive display does, pkg/backend/display/internal/terminal/term.go) or reads it
        # is stopped by SIGTTOU/SIGTTIN; without stdin Pulumi prints plain progress lines.
        child = subprocess.Popen(
            command,
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            process_group=0,
        )
        locked = threading.Event()
        tee = threading.Thread(target=_tee, args=(child.stderr, locked), daemon=True)
        tee.start()
        try:
            code = child.wait()
        except KeyboardInterrupt:
            _cancel(child)
            raise
        finally:
            tee.join(timeout=5)
            if not tee.is_alive() and child.stderr is not None:
                child.stderr.close()  # one process may run several gates (a cloud rotation)
        if code != 0 and locked.is_set():
            raise GateBusy(
                f"{stack}: Pulumi's lock on the stack is held by another update (named above); "
                "nothing was deployed. Wait for it to end (if its process is gone: pulumi cancel)"
            )
        return code

    def preflight(self, stack: str) -> None:
        """This checkout's own config check (`python -m stacks.preflight`), before pulumi
        touches anything: GateUsageError with its message when the config is bad."""
        if not (self.root / "stacks" / "preflight.py").exists():
            return  # an older commit (a rollback): its program checks its own config
        try:
            done = subprocess.run(
                [sys.executable, "-m", "stacks.preflight", stack],
                cwd=self.root,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=PREFLIGHT_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise GateUsageError(
                f"the config check of {stack} took over {PREFLIGHT_TIMEOUT_S:g}s"
            ) from None
        if done.returncode == int(Exit.USAGE):
            raise GateUsageError(done.stderr.strip() or done.stdout.strip())
        if done.returncode != 0:
            console.print(f"[yellow]config check did not run[/]: {done.stderr.strip()[-500:]}")

    def env(self) -> dict[str, str]:
        """The environment of its commands: another checkout's code comes first on the path,
        so a rollback's dynamic providers and smoke checks are that commit's own (the
        virtualenv's editable install points at this repository)."""
        env = dict(os.environ)
        env.pop(ALLOW_DATA_LOSS_ENV, None)
        if self.allow_data_loss:
            env[ALLOW_DATA_LOSS_ENV] = "1"
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
        services: tuple[str, ...] = (),
    ) -> Exit:
        """Run this checkout's smoke suite (only `services`' check modules when given); on
        deadline or SIGINT/SIGTERM let it clean up (the suite then reports every check,
        unfinished ones as interrupted)."""
        targets = [str(self.root / "smoke" / "checks" / f"{name}.py") for name in services]
        command = [sys.executable, "-m", "pytest", *(targets or [str(self.root / "smoke")])]
        command += ["--stack", stack]
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
        reports = [path for path in (json_path, junit) if path]
        for path in reports:  # a report left by an earlier run must never pass for this one's
            path.unlink(missing_ok=True)
        try:
            return self._run_smoke(command, deadline)
        finally:
            _report_a_run_that_wrote_none(json_path, junit)

    def _run_smoke(self, command: list[str], deadline: float) -> Exit:
        child = subprocess.Popen(command, cwd=self.root, env=self.env())

        signalled: list[int] = []

        def forward(signum: int, _frame: object) -> None:
            # pytest turns SIGINT into KeyboardInterrupt and still runs fixture finalizers.
            signalled.append(signum)
            child.send_signal(signal.SIGINT)

        previous = signal.signal(signal.SIGTERM, forward)
        try:
            code = child.wait(timeout=deadline)
            # Stopped by a signal the gate forwarded: interrupted, never a failed check.
            return Exit.INTERRUPTED if signalled else _PYTEST_EXIT.get(code, Exit.FAILED)
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


def _report_a_run_that_wrote_none(json_path: Path | None, junit: Path | None) -> None:
    """A smoke run stopped before pytest wrote its reports (a deadline or a signal during
    collection, a crash) still leaves reports, and they say no check passed: never a missing
    report a reader takes for the last run's, never `passed: true` with no check."""
    ended = "stopped before any check reported (deadline, signal or crash: see the gate's log)"
    if json_path and not json_path.exists():
        from smoke.report import write_json

        write_json(json_path, [], ended=ended)
    if junit and not _has_testcases(junit):  # pytest writes an empty one when collection stops
        junit.write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="smoke" '
            'tests="1" errors="1" failures="0" skipped="0"><testcase classname="smoke" '
            f'name="smoke run"><error message="{ended}"/></testcase></testsuite></testsuites>\n'
        )


def _has_testcases(junit: Path) -> bool:
    from xml.etree import ElementTree

    try:
        return next(ElementTree.parse(junit).getroot().iter("testcase"), None) is not None
    except (OSError, ElementTree.ParseError):
        return False


def _tee(stream: IO[bytes] | None, locked: threading.Event) -> None:
    """Copy pulumi's stderr to ours as it comes, noting a lock conflict."""
    if stream is None:
        return
    for raw in stream:
        sys.stderr.buffer.write(raw)
        sys.stderr.buffer.flush()
        line = raw.decode(errors="replace")
        if any(marker in line for marker in PULUMI_LOCKED):
            locked.set()


def _cancel(child: subprocess.Popen[bytes]) -> None:
    """Stop pulumi as a Ctrl-C would: one SIGINT to its process group (a graceful cancel that
    leaves no pending operation in the state), then a bounded wait, then SIGKILL. The group is
    signalled only while its leader is unreaped, so its id cannot belong to anyone else."""
    deadline = time.monotonic() + PULUMI_CANCEL_S
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGINT)
    while True:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.0))
            return
        except KeyboardInterrupt:
            continue  # another signal: the cancel is under way, keep waiting (bounded)
        except subprocess.TimeoutExpired:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return
