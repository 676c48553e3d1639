"""A hung server (SIGSTOP: it holds its port, accepts connections, never answers) is seen by the
readiness probe, and `pulumi up --refresh` (what `make up` runs) replaces its process, keeping
its data, so smoke is green again. Before the probes, refresh saw a live pid and reported
"unchanged": the documented heal did not heal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import psycopg
import pytest

from devtools.project import LocalProject

# service -> the state resource whose process is frozen
SERVERS = {
    "postgres": "database-server",
    "redis": "cache-server",
    "s3": "storage-server",
    "app": "app-process",
    "jobs": "jobs-server",
    "errors": "errors-server",
}


@pytest.fixture(scope="module")
def running(local_project: LocalProject) -> LocalProject:
    local_project.up()
    return local_project


def marker_rows(project: LocalProject, value: str, write: bool = False) -> int:
    """Write (or count) a row that must survive the heal: data is kept, not recreated."""
    admin = project.resources()["database-server"]["outputs"]["admin_url"]
    with psycopg.connect(admin, connect_timeout=5, autocommit=True) as conn:
        conn.execute("create table if not exists public.hung_marker (v text)")
        if write:
            conn.execute("insert into public.hung_marker values (%s)", (value,))
        row = conn.execute("select count(*) from public.hung_marker where v = %s", (value,))
        return int(row.fetchone()[0])  # type: ignore[index]


# Two at a time, so each of the six is healed by a refresh that also heals another (three
# refreshes, not six); each pair's resources must be replaced, every other left alone.
PAIRS = [("postgres", "redis"), ("s3", "app"), ("jobs", "errors")]


@pytest.mark.parametrize("pair", PAIRS, ids=["+".join(p) for p in PAIRS])
def test_hung_servers_are_replaced_by_refresh_and_keep_their_data(
    running: LocalProject, pair: tuple[str, str]
) -> None:
    value = f"kept-{'-'.join(pair)}-{time.time_ns()}"
    marker_rows(running, value, write=True)
    pids = {service: running.server_pid(service) for service in pair}
    assert all(pids.values()), f"no pid file: {pids}"
    untouched = {s: running.server_pid(s) for s in SERVERS if s not in pair}
    # gunicorn's worker serves on while only its master is frozen: freeze Bugsink's whole group.
    freezes = {s: os.killpg if s == "errors" else os.kill for s in pair}
    for service in pair:
        freezes[service](pids[service], signal.SIGSTOP)  # type: ignore[arg-type]
    try:
        started = time.monotonic()
        healed = running.up("--refresh")
        print(f"\nheal of a hung {' and '.join(pair)}: {time.monotonic() - started:.1f}s")
        # The probes found them hung: their resources are updated (new processes).
        for service in pair:
            assert SERVERS[service] in healed.output, healed.output[-3000:]
        assert "updated" in healed.output, healed.output[-3000:]
    finally:
        for service in pair:
            with contextlib.suppress(ProcessLookupError):
                # Whatever happened, never leave a frozen process.
                freezes[service](pids[service], signal.SIGCONT)  # type: ignore[arg-type]
    for service in pair:
        assert running.server_pid(service) != pids[service], f"{service} still runs the hung one"
    # The others were not replaced (the app restarts when a server it uses moved: not counted).
    for service, pid in untouched.items():
        if service != "app":
            assert running.server_pid(service) == pid, f"{service} was replaced too"
    smoke = running.smoke()
    assert smoke.returncode == 0, smoke.output[-3000:]
    assert marker_rows(running, value) == 1  # the database kept its data


def test_strangers_planted_in_every_pid_file_are_never_signalled_by_the_heal(
    running: LocalProject,
) -> None:
    """Issue 17's reproduction: each server killed with -9, a stranger's pid written into its pid
    file (its arguments name the server's port, or its data dir), then `pulumi up --refresh`
    (what `make up` runs): 7 of 7 strangers got SIGTERM before. Now none; every server heals."""
    import subprocess
    import sys

    from devtools.project import SERVERS as PID_FILES

    strangers: list[subprocess.Popen[bytes]] = []
    try:
        for service, (port_key, pid_file) in PID_FILES.items():
            pid = running.server_pid(service)
            assert pid, f"{service} has no pid file"
            for kill in (os.killpg, os.kill):  # a crash of the whole server
                with contextlib.suppress(ProcessLookupError):
                    kill(pid, signal.SIGKILL)
            port = running.ports[port_key]
            marker = str(running.state_dir / pid_file) if service == "postgres" else str(port)
            stranger = subprocess.Popen(  # leads a process group of its own, as a server does
                [sys.executable, "-c", "import time; time.sleep(120)", "-p", marker],
                process_group=0,
            )
            bystander = subprocess.Popen(  # in the stranger's group (Bugsink's stop is a group's)
                [sys.executable, "-c", "import os, time; time.sleep(120)"],
                process_group=stranger.pid,
            )
            strangers += [stranger, bystander]
            (running.state_dir / pid_file).write_text(f"{stranger.pid}\n")
        healed = running.up("--refresh")
        assert healed.returncode == 0, healed.output[-3000:]
        time.sleep(0.3)
        signalled = [s.args for s in strangers if s.poll() is not None]
        assert signalled == [], signalled
        smoked = running.smoke()
        assert smoked.returncode == 0, smoked.output[-3000:]
    finally:
        for stranger in strangers:
            stranger.kill()
            stranger.wait()
