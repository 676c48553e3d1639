"""Checks the local stack runs before it registers any resource.

A port held by another program would make that one server fail while the others are created,
leaving a half-built stack. Checking every port first means nothing is touched at all; a port
held by the stack's own running server (its pid file names a live process) is fine.
"""

from __future__ import annotations

from pathlib import Path

from components.local import app_process, postgres_server, redis_server, s3_server
from components.local.processes import HOST, pid_alive, port_open, read_pid

# What each local server's port key belongs to: its service name and pid file (in its data dir).
PORT_OWNERS: dict[str, tuple[str, str]] = {
    "postgresPort": (postgres_server.SERVICE, postgres_server.PID_FILE),
    "redisPort": (redis_server.SERVICE, redis_server.PID_FILE),
    "storagePort": (s3_server.SERVICE, s3_server.PID_FILE),
    "appPort": (app_process.SERVICE, app_process.PID_FILE),
}


def held_by_another_program(port: int, data_dir: Path, pid_file: str) -> bool:
    """Whether something listens on `port` that is not the server whose pid file is given."""
    return port_open(port) and not pid_alive(read_pid(data_dir / pid_file))


def port_problems(stack: str, ports: dict[str, int], data_dirs: dict[str, Path]) -> list[str]:
    """One line per port (by config key) another program holds, naming the key and the fix."""
    problems = []
    for key, port in ports.items():
        service, pid_file = PORT_OWNERS[key]
        if held_by_another_program(port, data_dirs[key], pid_file):
            problems.append(
                f"mentora:{key}={port}: {service}: port {port} on {HOST} is already in use by "
                f"another program; stop what holds it or set mentora:{key} in "
                f"Pulumi.{stack}.yaml to a free port: pulumi config set mentora:{key} <port> "
                f"-s {stack}"
            )
    return problems
