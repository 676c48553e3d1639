"""`make destroy` leaves nothing of ours running: after `pulumi destroy`, `python -m
stacks.orphans local` stops the servers that ran outside the stack's state (here: Redis and the
app, dropped from the state as a twice-interrupted cold `up` leaves them) and removes their data
dirs; while the state still holds servers it refuses and touches nothing."""

from __future__ import annotations

from components.local.ownership import pid_alive
from devtools.project import SERVERS, LocalProject, port_open


def test_destroy_stops_the_servers_left_outside_the_state(local_project: LocalProject) -> None:
    project = local_project
    project.up()
    redis_pid, app_pid = project.server_pid("redis"), project.server_pid("app")
    redis_port = project.ports[SERVERS["redis"][0]]

    refused = project.module("stacks.orphans", "local")
    assert refused.returncode == 2, refused.output
    assert "still has" in refused.output and "run: make destroy" in refused.output
    assert pid_alive(redis_pid) and pid_alive(app_pid)  # the stack's own: untouched

    urn = project.resources()["cache-server"]["urn"]
    project.run("state", "delete", urn, "--target-dependents", "--yes")
    project.run("destroy", "--yes", "--skip-preview")
    assert pid_alive(redis_pid) and pid_alive(app_pid)  # what `pulumi destroy` alone leaves

    swept = project.module("stacks.orphans", "local")
    assert swept.returncode == 0, swept.output
    assert f"redis: stopped pid {redis_pid}" in swept.output, swept.output
    assert f"app: stopped pid {app_pid}" in swept.output, swept.output
    assert not pid_alive(redis_pid) and not pid_alive(app_pid)
    assert not port_open(redis_port)
    assert not (project.state_dir / "redis").exists()
    again = project.module("stacks.orphans", "local")
    assert (again.returncode, again.output.strip()) == (0, "")
