"""A throwaway project for running the real gate CLI against a fake `pulumi`.

The fake keeps stack tags in a JSON file, logs every `up` (start, end, cancel), emulates
Pulumi's own stack lock (a second `up` while one runs fails with Pulumi's message), and its
`up` runs as told by `modes.json` (one mode per call): `ok`, `fail`, `locked`, `slow` (runs
until signalled, with a child "plugin" process that logs the SIGINT it gets). The project's
smoke suite passes, fails or hangs as `smoke/mode.txt` of its commit says.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

FAKE_PULUMI = r"""#!/usr/bin/env python3
import json, os, pathlib, signal, subprocess, sys, time
state = pathlib.Path(os.environ["FAKE_PULUMI_STATE"])
tags_file = state / "tags.json"
tags = json.loads(tags_file.read_text()) if tags_file.exists() else {}
args = sys.argv[1:]
args = args[: args.index("--stack")] if "--stack" in args else args

def log(line):
    with open(state / "log", "a") as f:
        f.write(line + "\n")

if args[:2] == ["stack", "history"]:
    print(json.dumps([{"version": 1}, {"version": 2}]))
elif args[:3] == ["stack", "tag", "ls"]:
    if (state / "slow-tags").exists():
        log("tag ls waiting")
        time.sleep(60)
    print(json.dumps(tags))
elif args[:3] == ["stack", "tag", "set"]:
    tags[args[3]] = args[4]
    tags_file.write_text(json.dumps(tags))
elif args[:3] == ["stack", "tag", "rm"]:
    tags.pop(args[3], None)
    tags_file.write_text(json.dumps(tags))
elif args[:1] == ["up"]:
    running = state / "running"
    if running.exists() and running.read_text() and os.path.exists(f"/proc/{running.read_text()}"):
        print("error: the stack is currently locked by 1 lock(s). Either wait for the other "
              "process(es) to end or delete the lock file with `pulumi cancel`.", file=sys.stderr)
        sys.exit(255)
    running.write_text(str(os.getpid()))
    count_file = state / "count"
    n = int(count_file.read_text()) if count_file.exists() else 0
    count_file.write_text(str(n + 1))
    modes_file = state / "modes.json"
    modes = json.loads(modes_file.read_text()) if modes_file.exists() else []
    mode = modes[n] if n < len(modes) else "ok"
    log(f"up start {pathlib.Path.cwd().name} {mode}")
    if os.isatty(0) and os.isatty(1):  # as Pulumi's interactive display: the terminal made raw
        import termios
        termios.tcsetattr(1, termios.TCSANOW, termios.tcgetattr(1))
    log("up args " + " ".join(args))
    log("up data-loss " + os.environ.get("MENTORA_ALLOW_DATA_LOSS", "-"))
    try:
        if mode == "locked":
            print("error: the stack is currently locked by 1 lock(s). Either wait for the other "
                  "process(es) to end or delete the lock file with `pulumi cancel`.",
                  file=sys.stderr)
            sys.exit(255)
        if mode == "conflict":  # Pulumi Cloud's 409, as backenderr.ConflictingUpdateError says it
            print("error: [409] Conflict: Another update is currently in progress.\nTo learn "
                  "more about possible reasons and resolution, visit https://www.pulumi.com/docs/"
                  "support/troubleshooting/common-issues/update-conflicts/", file=sys.stderr)
            sys.exit(255)
        if mode == "fail":
            log("up failed")
            sys.exit(255)
        if mode == "slow":
            plugin = subprocess.Popen([sys.executable, "-c", (
                "import pathlib, signal, sys, time\n"
                f"log = pathlib.Path({str(state / 'log')!r})\n"
                "def stop(s, f):\n"
                "    log.open('a').write('plugin got SIGINT\\n'); sys.exit(0)\n"
                "signal.signal(signal.SIGINT, stop)\n"
                "import os\n"
                "pathlib.Path(log.parent / 'plugin.pid').write_text(str(os.getpid()))\n"
                "time.sleep(300)\n")])
            def cancel(s, f):
                log("up cancelled")
                plugin.wait(timeout=30)
                running.unlink()
                sys.exit(255)
            signal.signal(signal.SIGINT, cancel)
            log("up running")
            time.sleep(300)
        if mode == "ok-slow":
            time.sleep(3)
        log("up done")
    finally:
        if running.exists() and running.read_text() == str(os.getpid()):
            running.unlink()
"""

CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--stack")
    parser.addoption("--read-only", action="store_true")
"""
SMOKE = """
import os, pathlib, time

if pathlib.Path(__file__).with_name("mode.txt").read_text().strip() == "collect-error":
    raise ImportError("a smoke module that does not import (pytest exits 2)")

def test_smoke():
    mode = pathlib.Path(__file__).with_name("mode.txt").read_text().strip()
    state = pathlib.Path(os.environ["FAKE_PULUMI_STATE"])
    with open(state / "log", "a") as f:
        f.write(f"smoke {mode}\\n")
    if mode == "slow":
        time.sleep(120)
    assert mode == "pass"
"""
# The CLI's entry point, run on the throwaway project instead of this checkout.
HARNESS = (
    "import sys; from pathlib import Path; from gate import cli; "
    "cli.ROOT = Path(sys.argv[1]); sys.argv = ['mentora-infra', *sys.argv[2:]]; cli.main()"
)
STACK_FILE = "config:\n  mentora:target: local\n  mentora:redisPort: '6390'\n"


@dataclass
class Project:
    """A git repository the gate deploys with the fake pulumi; `state` is the fake's folder."""

    root: Path
    state: Path
    bin: Path

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{self.bin}{os.pathsep}{env['PATH']}"
        env["FAKE_PULUMI_STATE"] = str(self.state)
        env["PYTHONPATH"] = str(ROOT)
        return env

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return done.stdout.strip()

    def commit(self, smoke: str = "pass") -> str:
        (self.root / "smoke" / "mode.txt").write_text(smoke + "\n")
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", f"smoke {smoke}")
        return self.git("rev-parse", "HEAD")

    def modes(self, *modes: str) -> None:
        """How the next `up` calls run, in order (then `ok`)."""
        (self.state / "modes.json").write_text(json.dumps(list(modes)))
        (self.state / "count").unlink(missing_ok=True)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", HARNESS, str(self.root), *args],
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def gate(self, *args: str, timeout: float = 120) -> tuple[int, str]:
        child = self.start(*args)
        output, _ = child.communicate(timeout=timeout)
        return child.returncode, output

    def log(self) -> list[str]:
        path = self.state / "log"
        return path.read_text().splitlines() if path.exists() else []

    def tags(self) -> dict[str, str]:
        path = self.state / "tags.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def stop_leftovers(self) -> None:
        """SIGKILL a fake pulumi or plugin a failed test left running: only a pid recorded in
        this project's state whose command line still names this state folder (ours)."""
        for name in ("running", "plugin.pid"):
            path = self.state / name
            text = path.read_text().strip() if path.exists() else ""
            if not text.isdigit():
                continue
            try:
                argv = Path(f"/proc/{text}/cmdline").read_bytes()
            except OSError:
                continue
            if str(self.state).encode() in argv or str(self.bin).encode() in argv:
                os.kill(int(text), signal.SIGKILL)

    def wait_for(self, line: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while line not in self.log():
            assert time.monotonic() < deadline, f"never logged {line!r}: {self.log()}"
            time.sleep(0.05)


def make_project(tmp: Path) -> Project:
    root, state, bin_dir = tmp / "project", tmp / "state", tmp / "bin"
    for folder in (root / "smoke", root / "supabase" / "migrations", state, bin_dir):
        folder.mkdir(parents=True)
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    (root / ".gitignore").write_text(".pulumi-local/\n__pycache__/\n")
    (root / "Pulumi.yaml").write_text("name: mentora\nruntime: python\n")
    (root / "Pulumi.local.yaml").write_text(STACK_FILE)
    (root / "smoke" / "conftest.py").write_text(CONFTEST)
    (root / "smoke" / "test_smoke.py").write_text(SMOKE)
    (root / "supabase" / "migrations" / "20261201000000_init.sql").write_text("select 1;\n")
    project = Project(root, state, bin_dir)
    project.git("init", "-q")
    return project
