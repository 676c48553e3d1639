"""`rotate <cloud stack> database --accept-window`, the Postgres password
(rotation/cloud_db_password.py): a gated `up --replace` of the stack's generated password (the
project resource applies it: v1-update-database-password), then the old pooler URL refused.
The operator accepted the window; a red gate says the app may hold a dead password until the
next green `up`, and a pooler that still lets the old password in fails the rotation."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.exitcodes import Exit
from rotation import cloud_db_password, cloud_driver
from tests.unit.rotation.cloud_fakes import OLD, OLD_SECRET, POOLER_URL, Backend

PASSWORD_URN = (
    "urn:pulumi:dev::mentora::mentora:infra:SupabaseDatabase$random:index/"
    "randomPassword:RandomPassword::database-password"
)


def reset(tmp_path: Path, gate_code: Exit, refused: bool) -> tuple[Exit, list[str], list[str]]:
    backend, said, asked = Backend(OLD, OLD_SECRET), [], []
    replaced: list[list[str]] = []

    def gate_replacing(urns: list[str]) -> Exit:
        replaced.append(urns)
        return gate_code

    def is_refused(url: str) -> bool:
        asked.append(url)
        return refused

    run = cloud_driver.Run("dev", tmp_path, lambda: Exit.GREEN, said.append, backend.state)
    code = cloud_db_password.reset(run, gate_replacing, is_refused)
    assert replaced == [[PASSWORD_URN]]
    return code, said, asked


def test_the_password_is_replaced_through_the_gate_then_the_old_url_is_refused(
    tmp_path: Path,
) -> None:
    code, said, asked = reset(tmp_path, Exit.GREEN, refused=True)
    assert code == Exit.GREEN and asked == [POOLER_URL]
    assert "can only be reset" in said[0] and "refuses the old password" in said[-1]
    assert "fakeDbPassword" not in "\n".join(said)


def test_a_red_gate_says_the_app_may_hold_a_dead_password(tmp_path: Path) -> None:
    code, said, asked = reset(tmp_path, Exit.ROLLED_BACK, refused=True)
    assert code == Exit.ROLLED_BACK and asked == []
    assert "dead password until `mentora-infra up dev` is green" in said[-1]


def test_an_old_password_still_let_in_fails_the_rotation(tmp_path: Path) -> None:
    with pytest.raises(cloud_db_password.StillAccepted):
        reset(tmp_path, Exit.GREEN, refused=False)
