"""The gate's order on a cloud stack (issue 20, items 1 and 2): deploy (staged: no production
domain, see tests/unit/test_program_cloud_gate.py), sync the staged deployment with Inngest
(tests/unit/cloud/test_inngest_sync.py), smoke the deployment's own URL, and only when green
promote it, then sync the production URL; a failed gate promotes nothing and syncs Inngest back
to what production serves, and `--on-fail rollback` re-promotes the last-known-good deployment
instead of rebuilding anything. Vercel's requests are the ones
documented in tests/unit/cloud/test_promote.py (a fake Vercel API behind httpx.MockTransport).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gate import gatekeeper, promote
from gate.exitcodes import Exit
from gate.gatekeeper import Gate, OnFail
from gate.ledger import LastKnownGood
from gate.lock import gate_lock
from gate.runner import Checkout
from rotation import cloud_driver, cloud_storage
from smoke.clients import jobs_api
from tests.unit.cloud.test_promote import DOMAINS, FakeVercel, api_for
from tests.unit.rotation.cloud_fakes import OLD, OLD_SECRET, Backend
from tests.unit.rotation.provider_fakes import Iam


class FakeLedger:
    """The stack's tags in memory (gate/ledger.py's public methods the gate calls)."""

    stored: dict[str, dict[str, Any]] = {}

    def __init__(self, stack: str, root: Path) -> None:
        self.mine = self.stored.setdefault(stack, {})

    reads: list[str] = []

    def tags(self) -> dict[str, Any]:
        self.reads.append("tags")
        return dict(self.mine)

    def hold(self, tags: dict[str, Any] | None = None) -> Any:
        self.reads += [] if tags is not None else ["hold"]
        return (self.mine if tags is None else tags).get("hold")

    def set_hold(self, hold: Any) -> None:
        self.mine["hold"] = hold

    def release(self) -> bool:
        return self.mine.pop("hold", None) is not None

    def last_known_good(self, tags: dict[str, Any] | None = None) -> Any:
        self.reads += [] if tags is not None else ["lkg"]
        return (self.mine if tags is None else tags).get("lkg")

    def record_green(self, lkg: LastKnownGood) -> None:
        self.mine["lkg"] = lkg

    def record_gate(self, outcome: str, commit: str) -> None:
        self.mine["last"] = outcome

    def update_count(self) -> int:
        return 7


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    log: list[str] = []
    state: dict[str, Any] = {"smoke": Exit.GREEN, "lkg_deployment": "dpl_old", "cloud": True}
    fake = FakeVercel(log, lag=0)
    state["fake"] = fake
    FakeLedger.stored, FakeLedger.reads = {}, []

    def pulumi(self: Checkout, stack: str, *args: str) -> int:
        log.append(args[0])
        return 0

    def smoke(self: Checkout, stack: str, **_: Any) -> Exit:
        log.append("smoke")
        return state["smoke"]  # type: ignore[no-any-return]

    def load(stack: str, root: Path) -> tuple[promote.VercelApi, promote.Release] | None:
        if not state["cloud"]:
            return None
        release = promote.Release(
            "prj_1", "dpl_new", DOMAINS, "https://dpl_new.vercel.app", "https://mentora.app"
        )
        return api_for(fake), release

    def sync(client: Any, url: str, timeout_s: float) -> dict[str, Any]:
        log.append(f"sync {url}")
        state["sync_headers"] = dict(client.headers)
        if state.get("sync_fails") == url:
            raise jobs_api.JobsError(f"jobs: syncing {url}/api/inngest with Inngest answered 500")
        return {"ok": True}

    def record(stack: str, deployment: str, root: Path) -> None:
        log.append(f"tag lkg-deployment={deployment}")
        state["lkg_deployment"] = deployment

    def redeploy(*args: Any, **kwargs: Any) -> None:
        log.append("rebuild")

    monkeypatch.setattr(Checkout, "pulumi", pulumi)
    monkeypatch.setattr(Checkout, "smoke", smoke)
    monkeypatch.setattr(gatekeeper, "require_pulumi", lambda: None)
    monkeypatch.setattr(gatekeeper, "Ledger", FakeLedger)
    monkeypatch.setattr(gatekeeper.rollback, "deploy_commit", redeploy)
    monkeypatch.setattr(promote, "load", load)
    monkeypatch.setattr(jobs_api, "sync_app", sync)
    monkeypatch.setattr(promote, "record_lkg_deployment", record)
    monkeypatch.setattr(promote, "lkg_deployment", lambda stack, root: state["lkg_deployment"])
    state["log"] = log
    return state


def gate(on_fail: OnFail = OnFail.REPORT, stack: str = "prod") -> Gate:
    return Gate(stack, on_fail, deadline=5, root=Path(__file__).resolve().parents[3])


def test_a_green_smoke_is_promoted_after_it_and_becomes_last_known_good(
    world: dict[str, Any],
) -> None:
    g = gate()
    assert g.run() is Exit.GREEN
    assert world["log"] == [
        "up",
        "sync https://dpl_new.vercel.app",
        "smoke",
        "promote dpl_new",
        "sync https://mentora.app",
        "tag lkg-deployment=dpl_new",
    ]
    assert g.facts["deployment"] == "dpl_new"
    # Before the deploy, the stack's tags are read once (a CLI call each) for its hold and LKG,
    # dev's hold (prod is promoted from dev) on its own; after the green gate, the hold afresh.
    assert FakeLedger.reads == ["tags", "hold", "hold"]
    # The deploy workflow carries this commit from dev's gate to prod's deployment.
    assert g.facts["app_commit"] == "a" * 40


@pytest.mark.parametrize("result", [Exit.FAILED, Exit.DEADLINE])
def test_a_failed_smoke_promotes_nothing(world: dict[str, Any], result: Exit) -> None:
    world["smoke"] = result
    assert gate().run() is result
    # Inngest goes back to the functions production serves.
    assert world["log"] == [
        "up",
        "sync https://dpl_new.vercel.app",
        "smoke",
        "sync https://mentora.app",
    ]
    assert not [r for r in world["fake"].requests if r.method == "POST"]


def test_rollback_re_promotes_the_last_known_good_deployment_without_a_rebuild(
    world: dict[str, Any],
) -> None:
    world["smoke"] = Exit.FAILED
    g = gate(OnFail.ROLLBACK)
    assert g.run() is Exit.ROLLED_BACK
    assert world["log"] == [
        "up",
        "sync https://dpl_new.vercel.app",
        "smoke",
        "sync https://mentora.app",
        "promote dpl_old",
    ]
    assert "dpl_old" in g.outcome and g.facts["lkg_deployment"] == "dpl_old"
    assert FakeLedger.stored["prod"].get("hold") is None


def test_rollback_without_a_last_known_good_deployment_holds(world: dict[str, Any]) -> None:
    world["smoke"], world["lkg_deployment"] = Exit.FAILED, None
    assert gate(OnFail.ROLLBACK).run() is Exit.HELD
    assert world["log"] == [
        "up",
        "sync https://dpl_new.vercel.app",
        "smoke",
        "sync https://mentora.app",
    ]
    assert "no last-known-good deployment" in FakeLedger.stored["prod"]["hold"].reason


def test_a_refused_promotion_fails_the_gate_and_records_no_last_known_good(
    world: dict[str, Any],
) -> None:
    world["fake"].promote_status = 409
    g = gate(OnFail.REPORT)
    assert g.run() is Exit.FAILED
    assert world["log"] == [
        "up",
        "sync https://dpl_new.vercel.app",
        "smoke",
        "promote dpl_new",
        "sync https://mentora.app",
    ]
    assert "lkg" not in FakeLedger.stored["prod"] and "promotion" in g.outcome


def test_a_local_stack_has_nothing_to_promote(world: dict[str, Any]) -> None:
    world["cloud"] = False
    assert gate(stack="local").run() is Exit.GREEN
    assert world["log"] == ["up", "smoke"]


def test_a_failed_sync_of_the_staged_deployment_fails_the_gate_before_smoke(
    world: dict[str, Any],
) -> None:
    world["sync_fails"] = "https://dpl_new.vercel.app"
    g = gate()
    assert g.run() is Exit.FAILED
    assert world["log"] == ["up", "sync https://dpl_new.vercel.app", "sync https://mentora.app"]
    assert "Inngest" in g.outcome


def test_a_review_stack_syncs_its_preview_through_the_bypass_and_is_never_promoted(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its preview sits behind Vercel Authentication: the sync carries the stack's own bypass
    # secret (read from its smoke_env output); after a green smoke nothing is promoted.
    asked: list[tuple[str, ...]] = []

    def stack_output(root: Path, stack: str, *args: str) -> str:
        asked.append((stack, *args))
        return '{"VERCEL_AUTOMATION_BYPASS_SECRET": "bypass-0123"}'

    monkeypatch.setattr(promote, "_pulumi", stack_output)
    assert gate(stack="pr-42").run() is Exit.GREEN
    assert world["log"] == ["up", "sync https://dpl_new.vercel.app", "smoke"]
    assert world["sync_headers"]["x-vercel-protection-bypass"] == "bypass-0123"
    assert asked == [("pr-42", "stack", "output", "smoke_env", "--show-secrets", "--json")]
    assert "tag lkg-deployment=dpl_new" not in world["log"]


def test_a_cloud_rotation_revokes_the_old_key_only_after_its_gate_promoted(
    world: dict[str, Any], tmp_path: Path
) -> None:
    """`rotate prod storage` through the real gate (holding the rotation's lock): the new key
    is deployed, smoked and promoted before the old one is touched; the gate neither waits for
    the lock the rotation holds nor takes it again."""
    backend, iam, log = Backend(OLD, OLD_SECRET), Iam(), world["log"]
    delete = iam.delete_access_key

    def logged_delete(**kwargs: str) -> None:
        log.append(f"revoke {kwargs['AccessKeyId'][:8]}")
        delete(**kwargs)

    iam.delete_access_key = logged_delete  # type: ignore[method-assign]
    root, said = Path(__file__).resolve().parents[3], []
    with gate_lock("prod", root):
        g = Gate("prod", OnFail.REPORT, deadline=5, root=root, lock_held=True)
        run = cloud_driver.Run("prod", tmp_path, g.run, said.append, backend.state, drain_s=0)
        kind = cloud_storage.StorageKey(iam, iam.sts_for, settle_s=1, sleep=lambda _s: None)
        assert cloud_driver.rotate(run, kind) is Exit.GREEN, said
    assert log.index("promote dpl_new") < log.index("revoke AKIAOLDO")
    assert list(iam.keys) == [backend.key()[0]] and backend.key()[0] != OLD
