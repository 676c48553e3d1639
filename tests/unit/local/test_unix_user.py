"""The Postgres server's OS identity: one user per data dir, its own group and no other group."""

from __future__ import annotations

import os
import pwd
import subprocess
import tempfile
from pathlib import Path

import pytest

from components.local import unix_user
from components.local.unix_user import run_as, service_user_name


def test_each_data_dir_has_its_own_stable_user_name() -> None:
    one, two = Path("/srv/stack-a/postgres"), Path("/srv/stack-b/postgres")
    assert service_user_name(one) == service_user_name(Path("/srv/stack-a/postgres"))
    assert service_user_name(one) != service_user_name(two)
    assert len(service_user_name(one)) <= 32  # useradd's limit


def test_not_root_runs_as_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unix_user, "_is_root", lambda: False)
    assert run_as(Path("/srv/stack-a/postgres")) == {}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root makes system users")
def test_as_root_a_command_gets_the_users_own_group_and_no_other() -> None:
    root = Path(tempfile.mkdtemp(prefix="mentora-user-"))
    try:
        as_user = run_as(root)
        entry = pwd.getpwnam(service_user_name(root))
        assert (as_user["user"], as_user["group"]) == (entry.pw_uid, entry.pw_gid)
        assert entry.pw_gid != 0
        ids = subprocess.run(
            ["sh", "-c", "id -u; id -G"],
            capture_output=True,
            text=True,
            check=True,
            cwd="/",
            **as_user,
        ).stdout.split()
        assert ids == [str(entry.pw_uid), str(entry.pw_gid)]  # no group root, no other group
    finally:
        unix_user.remove_service_user(root)
        root.rmdir()
    with pytest.raises(KeyError):
        pwd.getpwnam(service_user_name(root))


@pytest.mark.skipif(os.geteuid() != 0, reason="the service user exists only as root")
def test_a_folder_the_database_user_cannot_traverse_is_opened_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 19: a checkout in a 0700 folder (`mktemp -d`, a home directory) failed `make up`
    with a PermissionError from initdb naming neither the folder nor a fix."""
    private = tmp_path / "private"
    data_root = private / "servers" / "postgres"
    data_root.mkdir(parents=True)
    private.chmod(0o700)
    try:
        unix_user.prepare_for_service_user(data_root, [])
        assert private.stat().st_mode & 0o777 == 0o701  # traverse only: no list, no read
        said = capsys.readouterr().err
        assert f"postgres: {private} was mode 700: added the others-execute" in said
        assert f"chmod o-x {private}" in said
    finally:
        unix_user.remove_service_user(data_root)
