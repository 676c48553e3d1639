"""A throwaway copy of the project with its own backend, passphrase, ports and state folder.

Integration tests run the real Pulumi CLI against this copy, so they never touch the developer's
own `local` stack, its servers or its `.env.local`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devtools.ports import free_port, port_open

REPO = Path(__file__).resolve().parents[1]
COPIED = (
    "Pulumi.yaml",
    "Pulumi.local.yaml",
    "stacks",
    "components",
    "smoke",
    "supabase",
    "gate",
    "review",
    "recovery",
    "drift",
    "reference_app",
    "rotation",
    "tools",
    "recovery",
)
__all__ = ["REPO", "CommandResult", "LocalProject", "free_port", "port_open"]
# Any attempt to reach the internet goes to a closed port and fails loudly.
DEAD_PROXY = "http://127.0.0.1:9"
# How `pulumi stack export --show-secrets` marks a secret value (its plaintext is JSON text).
SECRET_SIG = "4dabf18193072939515e22adb298388d"
# service -> (its port's config key, its pid file under the state dir: first number = the pid)
SERVERS = {
    "postgres": ("postgresPort", "postgres/pgdata/postmaster.pid"),
    "redis": ("redisPort", "redis/redis.pid"),
    "s3": ("storagePort", "s3/moto.pid"),
    "app": ("appPort", "app/app.pid"),
    "jobs": ("inngestPort", "inngest/inngest.pid"),
    "errors": ("errorTrackerPort", "bugsink/gunicorn.pid"),
    "backups": ("backupArchiverPort", "backups/archiver.pid"),
}

# port setting -> the setting that turns its server on (off by default)
OPTIONAL_SERVERS = {"watchPort": "watch"}


def unwrap_secrets(value: Any) -> Any:
    """An exported state value with every `{SECRET_SIG: ..., "plaintext": ...}` decoded."""
    if isinstance(value, dict):
        if SECRET_SIG in value and "plaintext" in value:
            return unwrap_secrets(json.loads(value["plaintext"]))
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def copy_code(source: Path, root: Path, names: tuple[str, ...] = COPIED) -> None:
    """Copy the project's program, smoke suite and app from `source` into `root` (replacing
    what is there), each with its link to this checkout's virtualenv."""
    for name in names:
        src, dest = source / name, root / name
        if dest.is_dir():
            shutil.rmtree(dest)
        if src.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", ".venv")
            shutil.copytree(src, dest, ignore=ignore, symlinks=True)
        elif src.exists():
            shutil.copy2(src, dest)
    if (root / "stacks").is_dir() and not (root / "stacks" / ".venv").exists():
        (root / "stacks" / ".venv").symlink_to(REPO / ".venv")


@dataclass
class CommandResult:
    """What a CLI run printed, how it ended and how long it took."""

    args: list[str]
    returncode: int
    output: str
    seconds: float


@dataclass
class LocalProject:
    """Owns a project copy in `root` whose `local` stack is isolated from the developer's."""

    root: Path
    ports: dict[str, int]
    log: list[CommandResult] = field(default_factory=list)

    @classmethod
    def create(cls, base: Path, source: Path = REPO) -> LocalProject:
        """Copy the project from `source` (default: this checkout), pick free ports, init."""
        root = base / "project"
        root.mkdir(parents=True)
        copy_code(source, root)
        (root / ".venv").symlink_to(REPO / ".venv")
        # A free port for every port setting the copied program declares (an older commit's
        # program may have fewer servers).
        declared = yaml.safe_load((root / "Pulumi.yaml").read_text()).get("config") or {}
        ports = {
            key.removeprefix("mentora:"): free_port()
            for key in declared
            if key.startswith("mentora:") and key.endswith("Port")
        }
        config_file = root / "Pulumi.local.yaml"
        config = yaml.safe_load(config_file.read_text())
        config.pop("encryptionsalt", None)
        config["config"].update({f"mentora:{k}": v for k, v in ports.items()})
        config_file.write_text(yaml.safe_dump(config))
        (root / ".pulumi-local" / "backend").mkdir(parents=True)
        passphrase = root / ".pulumi-local" / "passphrase"
        passphrase.write_text(secrets.token_urlsafe(24))
        passphrase.chmod(0o600)
        project = cls(root=root, ports=ports)
        init = ["pulumi", "stack", "init", "local", "--secrets-provider", "passphrase"]
        result = project._exec([*init, "--non-interactive"], timeout=60)
        if result.returncode != 0:
            raise AssertionError(f"pulumi stack init failed:\n{result.output}")
        return project

    def free_ports_for_new_servers(self) -> None:
        """Give every port setting the project now declares but the stack has not set a free
        port (after copying a newer program over a stack made by an older one)."""
        declared = yaml.safe_load((self.root / "Pulumi.yaml").read_text()).get("config") or {}
        config = yaml.safe_load((self.root / "Pulumi.local.yaml").read_text()).get("config") or {}
        for key in declared:
            if key.startswith("mentora:") and key.endswith("Port") and key not in config:
                port = free_port()
                self.ports[key.removeprefix("mentora:")] = port
                self.run("config", "set", key, str(port))

    @property
    def server_ports(self) -> dict[str, int]:
        """The ports of the servers the stack runs: `ports` without an optional server's port
        while its setting is off (the watch runs only with mentora:watch)."""
        config = yaml.safe_load((self.root / "Pulumi.local.yaml").read_text()).get("config") or {}
        off = {
            port_key
            for port_key, flag in OPTIONAL_SERVERS.items()
            if str(config.get(f"mentora:{flag}", "false")).lower() != "true"
        }
        return {key: port for key, port in self.ports.items() if key not in off}

    @property
    def state_dir(self) -> Path:
        return self.root / ".pulumi-local" / "servers"

    @property
    def env_file(self) -> Path:
        return self.root / ".env.local"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PULUMI_BACKEND_URL=f"file://{self.root / '.pulumi-local' / 'backend'}",
            PULUMI_CONFIG_PASSPHRASE_FILE=str(self.root / ".pulumi-local" / "passphrase"),
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_PYTHON_CMD=str(REPO / ".venv" / "bin" / "python"),
            HTTP_PROXY=DEAD_PROXY,
            HTTPS_PROXY=DEAD_PROXY,
            NO_PROXY="127.0.0.1,localhost",
            GRPC_ENABLE_FORK_SUPPORT="false",
            # The copy's own code, not this checkout's: the dynamic-provider host imports the
            # pickled providers by module path, which the virtualenv's editable install would
            # otherwise resolve to this checkout.
            PYTHONPATH=str(self.root),
        )
        env.pop("PULUMI_CONFIG_PASSPHRASE", None)
        return env

    def _exec(self, args: list[str], timeout: float) -> CommandResult:
        start = time.monotonic()
        proc = subprocess.run(
            args,
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result = CommandResult(args, proc.returncode, proc.stdout + proc.stderr, 0.0)
        result.seconds = time.monotonic() - start
        self.log.append(result)
        return result

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> CommandResult:
        """Run `pulumi <args>` for the `local` stack of the copy."""
        result = self._exec(["pulumi", *args, "--stack", "local", "--non-interactive"], timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{result.output[-4000:]}")
        return result

    def up(self, *extra: str) -> CommandResult:
        return self.run("up", "--yes", "--skip-preview", *extra)

    def smoke(self, *extra: str, timeout: float = 120) -> CommandResult:
        """Run the copy's smoke suite against its `local` stack."""
        python = str(REPO / ".venv" / "bin" / "python")
        args = [python, "-m", "pytest", "smoke", "--stack", "local", "-p", "no:cacheprovider"]
        return self._exec([*args, *extra], timeout)

    def gate(self, *args: str, timeout: float = 180) -> CommandResult:
        """Run the copy's `mentora-infra` CLI."""
        python = str(REPO / ".venv" / "bin" / "python")
        return self._exec([python, "-c", "from gate.cli import main; main()", *args], timeout)

    def module(self, name: str, *args: str, timeout: float = 120) -> CommandResult:
        """Run `python -m <name> <args>` from the copy (e.g. `stacks.orphans`, as make does)."""
        python = str(REPO / ".venv" / "bin" / "python")
        return self._exec([python, "-m", name, *args], timeout)

    def outputs(self, show_secrets: bool) -> CommandResult:
        flags = ["stack", "output", "--json"] + (["--show-secrets"] if show_secrets else [])
        return self.run(*flags)

    def smoke_file(self, outputs_file: Path, *extra: str, timeout: float = 120) -> CommandResult:
        """Run the copy's smoke suite against saved outputs (`--outputs-file`), not the stack;
        extra arguments naming `smoke/<module>` run only those modules."""
        python = str(REPO / ".venv" / "bin" / "python")
        targets = [a for a in extra if a.startswith("smoke/")] or ["smoke"]
        extra = tuple(a for a in extra if not a.startswith("smoke/"))
        args = [python, "-m", "pytest", *targets, "--outputs-file", str(outputs_file)]
        return self._exec([*args, "-p", "no:cacheprovider", *extra], timeout)

    def deployment(self) -> dict[str, Any]:
        """The exported state's `deployment`, every secret decoded (never print it)."""
        state = json.loads(self.run("stack", "export", "--show-secrets").output)
        return dict(unwrap_secrets(state["deployment"]))

    def resources(self) -> dict[str, dict[str, Any]]:
        """Name -> exported state resource (`type`, `urn`, `outputs` with secrets in clear).

        >>> project.resources()["database-server"]["outputs"]["admin_url"]  # doctest: +SKIP
        """
        resources = self.deployment().get("resources") or []
        return {r["urn"].rsplit("::", 1)[-1]: r for r in resources}

    def server_pid(self, service: str) -> int | None:
        """The pid a local server wrote (`postgres`, `redis`, `s3`, `app`), None without one."""
        pid_file = self.state_dir / SERVERS[service][1]
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, IndexError, ValueError):
            return None

    def kill_server(self, service: str, deadline_s: float = 5) -> None:
        """SIGKILL a local server, as a crash would, and wait until its port is closed."""
        pid = self.server_pid(service)
        assert pid, f"{service} has no pid file"
        os.kill(pid, signal.SIGKILL)
        port = self.ports[SERVERS[service][0]]
        deadline = time.monotonic() + deadline_s
        while port_open(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not port_open(port), f"{service} still listens on {port} after SIGKILL"
