"""components.local.processes: port checks, deadlines, pids and the data dir guard."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from components.local import processes
from components.local.errors import PortInUseError, ServerStartError, UnsafePathError


def test_require_free_port_names_service_port_and_setting(taken_port: int) -> None:
    with pytest.raises(PortInUseError) as err:
        hints = {"port": "mentora:postgresPort in Pulumi.local.yaml"}  # given by stacks/
        processes.require_free_port("postgres", taken_port, hints)
    assert (err.value.service, err.value.port, err.value.setting) == (
        "postgres",
        taken_port,
        "port",
    )
    message = str(err.value)
    assert message.startswith(f"postgres: port {taken_port} on 127.0.0.1 is already in use")
    assert "set mentora:postgresPort in Pulumi.local.yaml to a free port" in message


def test_wait_until_gives_up_at_its_deadline_with_the_hint() -> None:
    start = time.monotonic()
    with pytest.raises(ServerStartError, match=r"redis: a connection .* within 0.3s; see x.log"):
        processes.wait_until(
            "redis", lambda: False, "a connection on 127.0.0.1:1", 0.3, "see x.log"
        )
    assert time.monotonic() - start < 2


def test_wait_for_port_names_host_and_port(taken_port: int) -> None:
    processes.wait_for_port("storage", taken_port, deadline_s=1)
    with pytest.raises(ServerStartError, match=r"storage: a connection on 127.0.0.1:1 "):
        processes.wait_for_port("storage", 1, deadline_s=0.2)


@pytest.mark.parametrize("data_dir", ["relative/postgres", "/", "/tmp", ""])
def test_guard_refuses_paths_that_are_not_a_dedicated_folder(data_dir: str) -> None:
    with pytest.raises(UnsafePathError, match="set mentora:stateDir"):
        processes.guarded_data_dir("postgres", data_dir, {"data_dir": "mentora:stateDir"})
    with pytest.raises(UnsafePathError, match="set the server's data folder") as err:
        processes.guarded_data_dir("postgres", data_dir)  # alone (no stack): still says what
    assert err.value.setting == "data_dir"


def test_guard_refuses_home_cwd_and_their_parents() -> None:
    for path in (Path.home(), Path.cwd(), Path.cwd().parent):
        if len(path.parts) >= 3:
            with pytest.raises(UnsafePathError, match="would contain"):
                processes.guarded_data_dir("redis", str(path))


def test_guard_refuses_a_symlinked_data_dir(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (tmp_path / "redis").symlink_to(target)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        processes.remove_data_dir("redis", str(tmp_path / "redis"))
    assert target.is_dir()


def test_claim_refuses_a_folder_it_did_not_create(state_dir: Path) -> None:
    foreign = state_dir / "postgres"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("years of work")
    with pytest.raises(UnsafePathError, match="did not create"):
        processes.claim_data_dir("postgres", str(foreign))
    assert (foreign / "thesis.tex").read_text() == "years of work"


def test_claim_recreates_its_own_folder_private_and_marked(state_dir: Path) -> None:
    data_dir = state_dir / "redis"
    processes.claim_data_dir("redis", str(data_dir))
    (data_dir / "leftover").write_text("from a lost state")
    processes.claim_data_dir("redis", str(data_dir))
    assert sorted(p.name for p in data_dir.iterdir()) == [processes.OWNED_MARKER]
    assert data_dir.stat().st_mode & 0o777 == 0o700


def test_remove_data_dir_removes_that_folder_only(state_dir: Path) -> None:
    data_dir = processes.claim_data_dir("storage", str(state_dir / "s3"))
    (data_dir / "moto.log").write_text("log")
    sibling = state_dir / "keep.txt"
    sibling.write_text("keep")
    processes.remove_data_dir("storage", str(data_dir))
    processes.remove_data_dir("storage", str(data_dir))  # already gone: no error
    assert not data_dir.exists()
    assert sibling.read_text() == "keep"
    assert os.listdir(state_dir) == ["keep.txt"]


def test_changed_keys_ignores_int_float_round_trips() -> None:
    olds = {"port": 54322.0, "data_dir": "/a/b/c"}
    assert processes.changed_keys(olds, {"port": 54322, "data_dir": "/a/b/c"}, ("port",)) == []
    news = {"port": 54323, "data_dir": "/a/b/d"}
    assert processes.changed_keys(olds, news, ("port", "data_dir")) == ["port", "data_dir"]
