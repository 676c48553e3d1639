"""Removing a local review stack, whole or half-made, and proving nothing of it is left.

One path for `review down` and `review sweep`, because it must work on what a killed
`review up` leaves (a stack without a record, servers outside the state, Pulumi's lock held):

1. a `pulumi` of this stack left running by a killed `review up` (its argv names the stack, it
   works in this checkout, and no review or gate command of the stack is alive) is cancelled
   (SIGINT, Pulumi's graceful cancel), killed after a grace;
2. every server of the stack that `components/local/ownership.py` proves ours is stopped, all
   at once (Postgres with a fast shutdown, so it leaves no shared memory behind);
3. what it keeps in the base stack's servers is dropped (review/tenant.py), and its
   folder, its Postgres OS user, its state in the backend (`pulumi stack rm --force`), its
   generated settings file and its lock files are removed; the record goes last;
4. the system is checked, not the record: no process working in or naming its folder, no
   recorded port listening, no folder, file or stack, nothing in the base. Anything left is
   named (TeardownIncomplete) and the record stays, so the next sweep tries again.

The stack's data is disposable by definition, so no `pulumi destroy` runs: the providers'
delete does exactly steps 2-3, and skipping it saves its engine start (~3 s) per stack.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import yaml  # type: ignore[import-untyped]

from components.local import ownership
from components.local.processes import port_open
from components.local.unix_user import remove_service_user, service_user_name
from gate.lock import lock_path
from review import pulumi_cli
from review.errors import TeardownIncomplete
from review.lock import review_lock_path
from review.state import Paths, Record
from review.tenant import Tenant
from stacks.servers import SERVERS  # service -> (its port setting, its folder in stateDir)

# The data goes with the stack, so only Postgres gets time for a clean (fast) shutdown, which
# releases its shared memory; the others get a moment, then SIGKILL (gunicorn's own graceful
# timeout is 30 s, uvicorn waits for open connections).
STOP_GRACE_S = {"postgres": 3.0}
OTHERS_GRACE_S = 0.5
PULUMI_CANCEL_S = 10.0


def recorded_ports(paths: Paths) -> dict[str, int]:
    """The stack's ports: its record's, else its generated settings file's (a record lost)."""
    record = Record.load(paths.root, paths.stack)
    if record is not None:
        return dict(record.ports)
    with contextlib.suppress(OSError, yaml.YAMLError, AttributeError, ValueError):
        config = (yaml.safe_load(paths.config_file.read_text()) or {}).get("config") or {}
        return {
            str(k).split(":", 1)[1]: int(str(v))
            for k, v in config.items()
            if str(k).endswith("Port")
        }
    return {}


def _in_checkout(proc: psutil.Process, root: Path) -> bool:
    with contextlib.suppress(psutil.Error, OSError):
        return os.path.realpath(proc.cwd()) == os.path.realpath(root)
    return False


def stray_pulumi(root: Path, stack: str) -> list[psutil.Process]:
    """`pulumi` processes acting on `stack` in this checkout: exact argv `--stack <stack>`
    (never a substring) and their working directory is the checkout."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error, ValueError):
            argv = proc.info["cmdline"] or []
            if not argv or Path(argv[0]).name != "pulumi":
                continue
            pairs = zip(argv, argv[1:], strict=False)
            if any(a == "--stack" and b == stack for a, b in pairs) and _in_checkout(proc, root):
                found.append(proc)
    return found


def stop_stray_pulumi(root: Path, stack: str) -> list[str]:
    """Cancel a pulumi of `stack` whose `review up` was killed, then kill what is left of it
    and of everything it started (its plugins, servers still starting); what was done. It must
    be gone before the stack is removed: an update that ends writes the stack's state again."""
    procs = stray_pulumi(root, stack)
    if not procs:
        return []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signal.SIGINT)  # Pulumi's graceful cancel
    _, alive = psutil.wait_procs(procs, timeout=PULUMI_CANCEL_S)
    family: list[psutil.Process] = []
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            family += [proc, *proc.children(recursive=True)]
    for proc in family:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(family, timeout=5)
    return [f"cancelled pulumi pid {p.pid} left by a killed review up" for p in procs]


def _stop_server(service: str, port: int | None, data_dir: Path) -> str | None:
    owner = ownership.find(data_dir, port)
    if owner is None:
        return None
    sig = signal.SIGINT if service == "postgres" else signal.SIGTERM  # Postgres: fast shutdown
    grace = STOP_GRACE_S.get(service, OTHERS_GRACE_S)
    ownership.stop(owner, service, grace_s=grace, stop_signal=sig)
    return f"{service}: stopped pid {owner.pid}"


def stop_servers(paths: Paths, ports: dict[str, int]) -> list[str]:
    """Stop every server of the stack that ownership proves ours, all at once."""
    jobs = {
        service: (service, ports.get(key), paths.servers / folder)
        for service, (key, folder) in SERVERS.items()
    }
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(lambda args: _stop_server(*args), jobs.values()))
    return [line for line in results if line]


def processes_in(folder: Path) -> list[str]:
    """Processes working in `folder` or naming it in their arguments (the system's answer)."""
    real = os.path.realpath(folder)
    left = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        with contextlib.suppress(psutil.Error, OSError):
            cwd = os.path.realpath(proc.cwd())
            argv = " ".join(proc.info["cmdline"] or [])
            if cwd == real or cwd.startswith(real + os.sep) or real in argv:
                left.append(ownership.describe(proc.pid))
    return left


def leftovers(paths: Paths, ports: dict[str, int], stacks: set[str]) -> list[str]:
    """Everything of the stack the system still has (empty: it is gone)."""
    left = [f"process {p}" for p in processes_in(paths.folder)]
    left += [f"port {key}={port} listening" for key, port in ports.items() if port_open(port)]
    for path in (paths.folder, paths.config_file):
        if path.exists():
            left.append(f"path {path}")
    if paths.stack in stacks:
        left.append(f"stack {paths.stack} in the Pulumi backend")
    if os.geteuid() == 0:
        with contextlib.suppress(KeyError):
            import pwd

            name = service_user_name(paths.servers / "postgres")
            pwd.getpwnam(name)
            left.append(f"OS user {name}")
    return left


def teardown(root: Path, stack: str, review_lock_file: Path | None = None) -> list[str]:
    """Remove everything of `stack` (the caller holds its review lock); what was done.
    TeardownIncomplete naming what is left, with the record kept for the next sweep."""
    paths = Paths(root, stack)
    ports = recorded_ports(paths)
    clock = _Steps()
    done = stop_stray_pulumi(root, stack)
    with ThreadPoolExecutor(max_workers=2) as pool:
        # The backend's copy goes meanwhile (--force: whatever its state still lists), and
        # the base's admin URL is read (before the settings file naming the tenant goes).
        removed = pool.submit(pulumi_cli.remove_stack, root, stack)
        found = pool.submit(Tenant.of, paths)
        done += stop_servers(paths, ports)
        remove_service_user(paths.servers / "postgres")
        tenant = found.result()
        if tenant is not None:  # after its app stopped: nothing reconnects meanwhile
            done += tenant.drop()
        clock.lap("stop")
        if paths.folder.exists():
            shutil.rmtree(paths.folder, ignore_errors=True)
            done.append(f"removed {paths.folder.relative_to(root)}")
        if removed.result():
            done.append(f"removed stack {stack} from the backend")
    stacks = pulumi_cli.review_stacks(root)
    paths.config_file.unlink(missing_ok=True)
    clock.lap("remove")
    wait_ports_closed(ports)
    left = leftovers(paths, ports, stacks) + (tenant.left() if tenant else [])
    clock.lap("check")
    if left:
        raise TeardownIncomplete(f"{stack}: teardown left " + "; ".join(left))
    lock_path(stack, root).unlink(missing_ok=True)  # the gate's; no gate runs: we hold review's
    paths.record.unlink(missing_ok=True)
    if review_lock_file is not None:
        review_lock_file.unlink(missing_ok=True)  # held: a waiter re-locks the new file
    done.append(f"took {clock}")
    return done


class _Steps:
    """Seconds per teardown step, for the last line of its report."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.steps: list[str] = []

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.steps.append(f"{name} {now - self.last:.1f}s")
        self.last = now

    def __str__(self) -> str:
        return ", ".join(self.steps)


def wait_ports_closed(ports: dict[str, int], timeout_s: float = 2.0) -> None:
    """Give ports a moment to close after their servers ended (a bounded wait)."""
    end = time.monotonic() + timeout_s
    while any(port_open(p) for p in ports.values()) and time.monotonic() < end:
        time.sleep(0.05)


__all__ = ["SERVERS", "leftovers", "review_lock_path", "teardown"]
