"""`rotate <cloud stack> database`, the server key (rotation/cloud_service_key.py): the app's
SUPABASE_SERVICE_ROLE_KEY moved from the legacy JWT to alternating secret API keys, both valid
until a green gate promoted the app on the new one.

Against the Management API's key operations as supabase/cli's openapi.json publishes them
(cloud_fakes.SupabaseKeysApi, the spec named in test_cloud_supabase.py) and a Data API that
answers 401 to a key it does not hold. The attacker's questions: a SIGINT after every step, a
red gate, two rotations, the browser still on the legacy anon key.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from components.cloud.supabase_http import SupabaseHttp
from gate.exitcodes import Exit
from rotation import cloud_driver, cloud_service_key
from rotation.cloud_supabase import SecretKeys
from rotation.journal import INTERRUPT_ENV, STEPS, Journal
from tests.unit.rotation.cloud_fakes import LEGACY_JWT, OLD, OLD_SECRET, PROJECT_URL, REF, Backend
from tests.unit.rotation.provider_fakes import SupabaseKeysApi


class World:
    """The backend, the project's keys and the production app (the key of the last green gate)."""

    def __init__(self, tmp_path: Path, anon_kind: str = "legacy") -> None:
        self.root, self.backend = tmp_path, Backend(OLD, OLD_SECRET)
        self.backend.by_urn("-project")["outputs"]["anon_key_kind"] = anon_kind
        legacy = [
            {"id": "l-anon", "name": "anon", "type": "legacy", "api_key": "eyJ.anon"},
            {"id": "l-service", "name": "service_role", "type": "legacy", "api_key": LEGACY_JWT},
        ]
        self.api = SupabaseKeysApi(legacy)
        self.production = LEGACY_JWT
        self.gates: list[Exit] = []
        self.said: list[str] = []

    def keys_for(self, token: str, ref: str) -> SecretKeys:
        assert (token, ref) == ("sbp_token", REF)
        return SecretKeys(SupabaseHttp(token, transport=httpx.MockTransport(self.api)), ref)

    def accepts(self, url: str, key: str) -> bool:
        assert url == PROJECT_URL
        return self.api.accepts(url, key)

    def gate(self) -> Exit:
        code = self.gates.pop(0) if self.gates else Exit.GREEN
        if code == Exit.GREEN:
            key = self.backend.server_key()[1]
            if not self.api.accepts(PROJECT_URL, key):
                return Exit.FAILED
            self.production = key
        return code

    def rotate(self) -> Exit:
        kind = cloud_service_key.SupabaseServerKey(
            keys_for=self.keys_for, accepts=self.accepts, settle_s=1, sleep=lambda _s: None
        )
        run = cloud_driver.Run(
            "dev", self.root, self.gate, self.said.append, self.backend.state, drain_s=0
        )
        code = cloud_driver.rotate(run, kind)
        assert self.api.accepts(PROJECT_URL, self.production), "production holds a dead key"
        return code

    def secret_names(self) -> list[str]:
        return sorted(k["name"] for k in self.api.keys if k["type"] == "secret")


def test_the_first_rotation_leaves_the_legacy_key_while_the_browser_needs_it(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    assert world.rotate() == Exit.GREEN, world.said
    assert world.backend.server_key()[0] == "mentora_app_a" == world.secret_names()[0]
    assert world.production != LEGACY_JWT and world.api.legacy_enabled
    assert "legacy service_role key still works" in "\n".join(world.said)
    assert "PUT" not in " ".join(world.api.calls)


def test_with_a_publishable_browser_key_the_legacy_keys_are_disabled_and_refused(
    tmp_path: Path,
) -> None:
    world = World(tmp_path, anon_kind="publishable")
    assert world.rotate() == Exit.GREEN, world.said
    assert not world.api.legacy_enabled and not world.api.accepts(PROJECT_URL, LEGACY_JWT)
    assert "refuses the old key legacy" in world.said[-1]


def test_the_next_rotation_alternates_and_deletes_the_old_key(tmp_path: Path) -> None:
    world = World(tmp_path)
    assert world.rotate() == Exit.GREEN
    first = world.production
    assert world.rotate() == Exit.GREEN, world.said
    assert world.secret_names() == ["mentora_app_b"] == [world.backend.server_key()[0]]
    assert not world.api.accepts(PROJECT_URL, first)
    text = "\n".join(world.said)
    assert first not in text and world.production not in text and LEGACY_JWT not in text


@pytest.mark.parametrize("step", [s for s in STEPS if s not in ("switched", "revoked")])
def test_a_sigint_after_any_step_then_rotate_again_ends_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    world = World(tmp_path)
    assert world.rotate() == Exit.GREEN
    monkeypatch.setenv(INTERRUPT_ENV, step)
    with pytest.raises(KeyboardInterrupt):
        world.rotate()
    monkeypatch.delenv(INTERRUPT_ENV)
    assert world.rotate() == Exit.GREEN, world.said
    assert world.secret_names() == ["mentora_app_b"] == [world.backend.server_key()[0]]
    assert world.production == world.backend.server_key()[1]
    assert not Journal("dev", tmp_path).path.exists()


def test_a_red_gate_revokes_nothing_and_the_next_rotate_finishes(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.gates = [Exit.FAILED]
    assert world.rotate() == Exit.FAILED
    assert world.production == LEGACY_JWT and world.secret_names() == ["mentora_app_a"]
    assert "`mentora-infra rotate dev database` runs the gate again" in world.said[-1]
    assert world.rotate() == Exit.GREEN
    assert world.production == world.backend.server_key()[1] != LEGACY_JWT
