"""`postgres`' own password on a cloud stack (rotation/cloud_db_password.py), reset once the app
has its own login: a gated `up --replace` of the stack's generated password (the project
resource applies it: v1-update-database-password); a gate that does not pass fails the step."""

from __future__ import annotations

import pytest

from gate.exitcodes import Exit
from rotation import cloud_db_password
from tests.unit.rotation.cloud_fakes import OLD, OLD_SECRET, Backend

PASSWORD_URN = (
    "urn:pulumi:dev::mentora::mentora:infra:SupabaseDatabase$random:index/"
    "randomPassword:RandomPassword::database-password"
)


def test_the_generated_password_is_replaced_through_the_gate(tmp_path: object) -> None:
    state = Backend(OLD, OLD_SECRET).state("dev", tmp_path).load()  # type: ignore[arg-type]
    replaced: list[list[str]] = []
    cloud_db_password.reset_admin(state, lambda urns: replaced.append(urns) or Exit.GREEN)
    assert replaced == [[PASSWORD_URN]]


@pytest.mark.parametrize("code", [Exit.FAILED, Exit.ROLLED_BACK, Exit.INTERRUPTED])
def test_a_gate_that_does_not_pass_fails_the_reset_saying_the_app_is_unaffected(
    tmp_path: object, code: Exit
) -> None:
    state = Backend(OLD, OLD_SECRET).state("dev", tmp_path).load()  # type: ignore[arg-type]
    with pytest.raises(cloud_db_password.ResetFailed, match="the app is unaffected"):
        cloud_db_password.reset_admin(state, lambda _urns: code)
