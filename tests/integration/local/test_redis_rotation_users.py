"""The cache's credential rotation against a real redis-server, without Pulumi (issue 23: "Redis:
ACL users"): the app moves from `default` to its own ACL user, then between `mentora_a` and
`mentora_b`; each old credential is refused afterwards, an interrupted rotation is undone or
finished by `revoke_others`, and a restarted server keeps exactly the rotated users. The
stack-level path (state, env file, app switch, smoke) is tests/integration/test_rotation.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.local import processes
from components.local.redis_server import RedisProvider
from devtools.ports import free_port
from rotation.kinds import Created, NotRefused
from rotation.kinds.cache import RESOURCE, Cache
from rotation.state import replaced, unwrap


class State:
    """What the cache kind reads of a stack's state: the cache server's outputs."""

    def __init__(self, outs: dict[str, Any]) -> None:
        self.outs = dict(outs)

    def outputs(self, name: str) -> dict[str, Any]:
        assert name == RESOURCE
        return dict(self.outs)

    def saved(self, created: Created) -> State:
        """The state as the rotation saves it (`StackState.replace` + `set_output`)."""
        outs = replaced(self.outs, created.pairs)
        for (_, key), value in created.outputs.items():
            outs[key] = unwrap(value)
        return State(outs)


def ping(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        return bool(client.ping())
    except redis.AuthenticationError:
        return False
    finally:
        client.close()


@pytest.fixture
def server(state_dir: Path) -> Any:
    provider, port = RedisProvider(), free_port()
    props = {"port": port, "data_dir": str(state_dir / "redis")}
    outs = provider.create(props).outs
    yield provider, props, outs
    provider.delete(f"redis-{port}", outs)


def test_the_app_moves_to_its_own_users_in_turn_and_each_old_one_is_refused(server: Any) -> None:
    provider, props, outs = server
    assert outs["url"].startswith("redis://default:")  # before any rotation: as on Upstash
    cache, state = Cache(), State(outs)

    first = cache.create(state)
    assert ping(first.old["url"])  # both work until the revoke
    state = state.saved(first)
    assert state.outs["app_login"] == "mentora_a" and state.outs["url"].startswith(
        "redis://mentora_a:"
    )
    assert state.outs["password"] != outs["password"]  # `default`'s old password was the app's
    assert ping(state.outs["url"]) and ping(first.old["url"])
    revoked = cache.revoke_others(state)
    assert revoked == [revoked[0]] and revoked[0].startswith("redis password sha256:")
    assert cache.refused(state, first.old).startswith("redis: invalid username-password pair")
    assert ping(state.outs["url"])

    second = cache.create(state)
    state = state.saved(second)
    assert state.outs["app_login"] == "mentora_b"
    assert cache.revoke_others(state) == ["redis user mentora_a"]
    assert cache.refused(state, second.old).startswith("redis: invalid username-password pair")
    third = state.saved(cache.create(state))
    assert third.outs["app_login"] == "mentora_a"  # and back: two users, alternating
    assert json.dumps(third.outs).count(third.outs["app_password"]) == 2  # password + url

    # The state's users are the server's managed settings: no drift, and a restart keeps them.
    cache.revoke_others(third)
    read = provider.read("redis", {**third.outs, **props}).outs
    assert read["observed"] == read["managed"], read["observed"]
    assert read["managed"]["acl users"] == "default,mentora_a"
    assert provider.diff("redis", read, props).changes is False
    keys = provider.kept_secrets(third.outs)
    settings = provider.settings({**third.outs, **props})
    provider.stop(settings)
    provider.start(settings, keys)
    provider.record_started(settings)  # ours again: the fixture's delete stops it
    assert ping(third.outs["url"]) and not ping(state.outs["url"])


def test_an_interrupted_rotation_is_undone_before_the_save_and_finished_after(
    server: Any,
) -> None:
    _, _, outs = server
    cache, state = Cache(), State(outs)
    made = cache.create(state)  # interrupted here: the state still names `default`
    revoked = cache.revoke_others(state)
    assert [r.split(":")[0] for r in revoked] == ["redis password sha256", "redis user mentora_a"]
    assert ping(outs["url"])
    assert not ping(state.saved(made).outs["url"])  # the new user is gone: undone

    made = cache.create(state)  # again, interrupted after the save this time
    saved = state.saved(made)
    cache.revoke_others(saved)
    assert ping(saved.outs["url"]) and not ping(outs["url"])  # finished
    with pytest.raises(NotRefused):
        cache.refused(saved, {"url": saved.outs["url"], "user": "mentora_a"})


def test_a_user_made_out_of_band_is_drift_and_repair_keeps_the_apps(server: Any) -> None:
    import redis

    provider, props, outs = server
    cache = Cache()
    state = State(outs).saved(cache.create(State(outs)))
    cache.revoke_others(state)
    current = {**state.outs, **props}
    pid = processes.read_pid(Path(props["data_dir"]) / "redis.pid")
    admin = redis.Redis(
        host="127.0.0.1", port=props["port"], password=state.outs["password"], socket_timeout=5
    )
    try:
        admin.acl_setuser("intruder", enabled=True, passwords=["+intruder-pw-123"])
        admin.acl_setuser("mentora_a", passwords=["+a-second-password-456"])
        read = provider.read("redis", current).outs
        changed = {k: v for k, v in read["observed"].items() if v != read["managed"][k]}
        assert changed == {
            "acl users": "default,intruder,mentora_a",
            "app auth": "the stack's + 1 other password(s)",
        }
        updated = provider.update("redis", read, props).outs
        assert updated["observed"] == updated["managed"]
        assert processes.read_pid(Path(props["data_dir"]) / "redis.pid") == pid
        assert sorted(admin.acl_users()) == ["default", "mentora_a"]
        assert ping(state.outs["url"])
    finally:
        admin.close()
