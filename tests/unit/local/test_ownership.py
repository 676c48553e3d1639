"""Only processes proven ours are ever signalled (components/local/ownership.py).

The attacker's cases first: a stale pid file naming a stranger whose arguments hold the port
(`sleep <port>`, `redis-cli -p <port>`, `--port <port>`), a stranger with a bystander in its
process group, a process under a sibling folder (`redis2`), a reused pid (same number, another
start time), a foreign listener on `[::]`. None of them may be signalled, by any local server's
stop or by the preflight.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from components.local import (
    app_process,
    error_tracker,
    inngest_server,
    ownership,
    postgres_server,
    redis_server,
    s3_server,
)
from components.local.preflight import taken_ports
from components.local.server_provider import LocalServerProvider
from devtools.ports import free_port

PROVIDERS: dict[str, type[LocalServerProvider]] = {  # type: ignore[type-arg]
    "postgres": postgres_server.PostgresProvider,
    "redis": redis_server.RedisProvider,
    "storage": s3_server.S3Provider,
    "app": app_process.AppProcessProvider,
    "jobs": inngest_server.InngestDevServerProvider,
    "errors": error_tracker.ErrorTrackerProvider,
}
SLEEP = "import time; time.sleep(60)"


def spawn(*args: str, cwd: Path | None = None, session: bool = True) -> subprocess.Popen[bytes]:
    """A stranger: a process this test started, not any server's."""
    return subprocess.Popen(
        [sys.executable, "-c", SLEEP, *args], cwd=cwd, start_new_session=session
    )


@pytest.fixture
def strangers() -> Iterator[list[subprocess.Popen[bytes]]]:
    made: list[subprocess.Popen[bytes]] = []
    yield made
    for proc in made:
        proc.kill()
        proc.wait(timeout=5)


def assert_untouched(procs: list[subprocess.Popen[bytes]]) -> None:
    time.sleep(0.2)  # a signal sent would have landed by now
    for proc in procs:
        assert proc.poll() is None, f"{proc.args} was signalled ({proc.returncode})"
        assert ownership.pid_alive(proc.pid)


@pytest.mark.parametrize("service", sorted(PROVIDERS))
@pytest.mark.parametrize("argv", [["{port}"], ["-p", "{port}"], ["--port", "{port}"]])
def test_a_pid_file_naming_a_stranger_with_the_port_in_its_arguments_is_never_signalled(
    service: str, argv: list[str], state_dir: Path, strangers: list[subprocess.Popen[bytes]]
) -> None:
    provider = PROVIDERS[service]()
    port = free_port()
    data_dir = state_dir / service
    stranger = spawn(*(a.format(port=port) for a in argv))
    bystander = spawn(session=False)  # this test's group, like a neighbour of the stranger's
    strangers += [stranger, bystander]
    pid_file = data_dir / provider.PID_FILE
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(f"{stranger.pid}\n")
    settings = provider.settings({"port": port, "data_dir": str(data_dir)})
    provider.stop(settings)
    provider.delete(f"{service}-{port}", {"port": port, "data_dir": str(data_dir)})
    assert_untouched(strangers)


def test_sleep_named_after_the_port_is_not_redis(
    state_dir: Path, strangers: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    sleeper = subprocess.Popen(["sleep", str(port)])
    strangers.append(sleeper)
    data_dir = state_dir / "redis"
    data_dir.mkdir()
    (data_dir / redis_server.PID_FILE).write_text(str(sleeper.pid))
    provider = redis_server.RedisProvider()
    provider.stop(provider.settings({"port": port, "data_dir": str(data_dir)}))
    assert_untouched(strangers)


def test_a_process_working_in_a_sibling_folder_is_not_the_servers(
    state_dir: Path, strangers: list[subprocess.Popen[bytes]]
) -> None:
    sibling = state_dir / "redis2"
    sibling.mkdir()
    (state_dir / "redis").mkdir()
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    try:
        # The sibling's process inherits the listening socket: it listens on the server's port.
        worker = subprocess.Popen(
            [sys.executable, "-c", SLEEP, str(state_dir / "redis")],
            cwd=sibling,
            pass_fds=(listening.fileno(),),
        )
        strangers.append(worker)
        assert ownership.find(state_dir / "redis", port) is None
        provider = redis_server.RedisProvider()
        provider.stop(provider.settings({"port": port, "data_dir": str(state_dir / "redis")}))
        assert_untouched(strangers)
    finally:
        listening.close()


def test_a_reused_pid_is_not_the_recorded_server(
    state_dir: Path, strangers: list[subprocess.Popen[bytes]]
) -> None:
    data_dir = state_dir / "app"
    data_dir.mkdir()
    stranger = spawn(cwd=data_dir)  # even one working in the data dir
    strangers.append(stranger)
    recorded = ownership.Owner.capture(stranger.pid, data_dir)
    # The same number, another start time: the server we recorded is gone, the pid reused.
    replace(recorded, started=recorded.started - 5).save()
    assert ownership.Owner.load(data_dir) is not None
    assert ownership.Owner.load(data_dir).process() is None  # type: ignore[union-attr]
    # ...and the same start time with other arguments is not it either.
    assert replace(recorded, cmdline=(*recorded.cmdline, "x")).process() is None
    ownership.stop(ownership.Owner.load(data_dir), "app")
    assert_untouched(strangers)


def test_a_damaged_or_copied_record_proves_nothing(
    state_dir: Path, strangers: list[subprocess.Popen[bytes]]
) -> None:
    data_dir, other = state_dir / "redis", state_dir / "other"
    data_dir.mkdir()
    other.mkdir()
    proc = spawn(cwd=data_dir)
    strangers.append(proc)
    ownership.Owner.capture(proc.pid, data_dir).save()
    assert ownership.Owner.load(data_dir) is not None
    # Copied beside another data dir: names a dir it was not made for.
    ownership.Owner.record_path(other).write_bytes(
        ownership.Owner.record_path(data_dir).read_bytes()
    )
    assert ownership.Owner.load(other) is None
    ownership.Owner.record_path(data_dir).write_text('{"pid": ')  # truncated
    assert ownership.Owner.load(data_dir) is None


def test_a_foreign_listener_on_ipv6_any_is_named_with_its_pid(
    state_dir: Path, strangers: list[subprocess.Popen[bytes]]
) -> None:
    if not socket.has_dualstack_ipv6():
        pytest.skip("no dual-stack IPv6 here")
    port = free_port()
    code = (
        "import socket, time; "
        f"s = socket.create_server(('::', {port}), family=socket.AF_INET6, dualstack_ipv6=True); "
        "time.sleep(60)"
    )
    listener = subprocess.Popen([sys.executable, "-c", code])
    strangers.append(listener)
    deadline = time.monotonic() + 10
    while ownership.listener(port) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    (taken,) = taken_ports({"redis": (port, state_dir / "redis")})
    assert taken.holder.startswith(f"pid {listener.pid}: ")
    assert_untouched(strangers)


MASTER_WITH_WORKER = (
    "import subprocess, sys, time; "
    f"subprocess.Popen([sys.executable, '-c', {SLEEP!r}]); time.sleep(60)"
)


@pytest.fixture
def gunicorn_like(state_dir: Path) -> Iterator[tuple[ownership.Owner, psutil.Process]]:
    """A recorded master with one worker, both working in the data dir, like gunicorn."""
    data_dir = state_dir / "errors"
    data_dir.mkdir()
    master = subprocess.Popen(
        [sys.executable, "-c", MASTER_WITH_WORKER], cwd=data_dir, start_new_session=True
    )
    owner = ownership.record(master.pid, data_dir, "errors")
    deadline = time.monotonic() + 30  # a loaded machine starts Python slowly
    while len(owner.processes()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker = owner.processes()[1]
    yield owner, worker
    for pid in (master.pid, worker.pid):
        if ownership.pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    master.wait(timeout=5)


def test_our_server_is_recorded_found_and_stopped_with_its_children(
    gunicorn_like: tuple[ownership.Owner, psutil.Process],
) -> None:
    owner, worker = gunicorn_like
    assert ownership.find(Path(owner.data_dir)) == owner
    ownership.stop(owner, "errors", grace_s=0)
    assert not ownership.pid_alive(owner.pid) and not ownership.pid_alive(worker.pid)
    assert not ownership.Owner.record_path(Path(owner.data_dir)).exists()


def test_a_worker_left_by_a_killed_master_is_found_by_its_group_and_data_dir(
    gunicorn_like: tuple[ownership.Owner, psutil.Process],
) -> None:
    owner, worker = gunicorn_like
    os.kill(owner.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while ownership.pid_alive(owner.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.pid for p in owner.processes()] == [worker.pid]
    ownership.stop(owner, "errors")
    assert not ownership.pid_alive(worker.pid)


def test_a_stopped_server_is_killed_at_once_not_after_the_grace(state_dir: Path) -> None:
    data_dir = state_dir / "redis"
    data_dir.mkdir()
    proc = spawn(cwd=data_dir)
    try:
        owner = ownership.record(proc.pid, data_dir, "redis")
        os.kill(proc.pid, signal.SIGSTOP)
        started = time.monotonic()
        ownership.stop(owner, "redis", grace_s=30)
        assert time.monotonic() - started < 5
        assert not ownership.pid_alive(proc.pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_planted_pid_file_cannot_make_a_stranger_recorded(
    state_dir: Path, strangers: list[subprocess.Popen[bytes]]
) -> None:
    data_dir = state_dir / "jobs"
    data_dir.mkdir()
    stranger = spawn()  # works elsewhere
    strangers.append(stranger)
    with pytest.raises(Exception, match="does not work in"):
        ownership.record(stranger.pid, data_dir, "jobs")
    assert not ownership.Owner.record_path(data_dir).exists()
    assert_untouched(strangers)


def test_pid_alive_counts_a_zombie_as_dead() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while ownership.pid_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not ownership.pid_alive(proc.pid)
    proc.wait(timeout=5)


# The main thread leaves with the thread-only exit syscall; a second thread keeps running, as
# the I/O thread of a killed redis does for a moment: the main thread's /proc stat reads "Z".
MAIN_THREAD_EXITS = """
import ctypes, os, threading, time
threading.Thread(target=time.sleep, args=(60,)).start()
time.sleep(0.2)
ctypes.CDLL(None).syscall({"x86_64": 60, "aarch64": 93}[os.uname().machine], 0)
"""


@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="exit syscall number")
def test_a_process_lives_while_any_of_its_threads_runs(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN_THREAD_EXITS], start_new_session=True, cwd=tmp_path
    )
    try:
        owner = ownership.record(proc.pid, tmp_path, "redis")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.02)
        else:
            pytest.fail("the main thread did not exit")
        assert ownership.pid_alive(proc.pid)  # its other thread runs (and holds its files)
        assert [p.pid for p in owner.processes()] == [proc.pid]  # still the recorded server
        ownership.stop(owner, "redis", grace_s=5)
        assert not ownership.pid_alive(proc.pid) and owner.processes() == []
    finally:
        proc.kill()
        proc.wait(timeout=5)


def test_a_stopped_server_is_seen_frozen_without_asking_it_anything(state_dir: Path) -> None:
    data_dir = state_dir / "redis"
    data_dir.mkdir()
    proc = spawn(cwd=data_dir)
    try:
        owner = ownership.record(proc.pid, data_dir, "redis")
        assert not ownership.frozen(owner)
        os.kill(proc.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while not ownership.frozen(owner) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ownership.frozen(owner)
        os.kill(proc.pid, signal.SIGCONT)
        deadline = time.monotonic() + 5
        while ownership.frozen(owner) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not ownership.frozen(owner) and not ownership.frozen(None)
    finally:
        proc.kill()
        proc.wait()
