"""The rotation's state edit and journal, without a stack: old values replaced everywhere in the
exported state (secrets stay marked secret), the env's fingerprint follows, the journal holds no
secret and interrupts at the step a test names."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from components.app_secrets import FINGERPRINT_NAME, fingerprint
from rotation.journal import INTERRUPT_ENV, Entry, Journal, JournalDamaged
from rotation.state import SECRET_SIG, StackState, StateError, secret, unwrap

OLD, NEW = "old-password-0123456789", "new-password-9876543210"


def _document() -> dict[str, Any]:
    env = {"REDIS_URL": f"redis://default:{OLD}@127.0.0.1:1/0", "LOG_LEVEL": "debug"}
    env[FINGERPRINT_NAME] = fingerprint(env)
    stack_urn = "urn:pulumi:local::p::pulumi:pulumi:Stack::p-local"
    return {
        "deployment": {
            "resources": [
                {
                    "urn": f"{stack_urn}$x::cache-server",
                    "inputs": {"port": 1},
                    "outputs": {"password": secret(OLD), "url": secret(env["REDIS_URL"])},
                },
                {
                    "urn": f"{stack_urn}$x::app-env-file",
                    "inputs": {"values": secret(env)},
                    "outputs": {"values": secret(env), "path": "/x/.env.local"},
                },
                {
                    "urn": stack_urn,
                    "outputs": {"config_fingerprint": env[FINGERPRINT_NAME], "env": secret(env)},
                },
            ]
        }
    }


def test_replace_reaches_every_copy_keeps_secrets_secret_and_moves_the_fingerprint() -> None:
    state = StackState("local", Path("."))
    state.document = _document()
    before = state.env()[FINGERPRINT_NAME]
    state.replace({OLD: NEW})
    text = json.dumps(unwrap(state.document))
    assert OLD not in text and text.count(NEW) == 5
    after = state.env()
    assert after[FINGERPRINT_NAME] == fingerprint(after) != before
    root = state.document["deployment"]["resources"][2]["outputs"]
    assert root["config_fingerprint"] == after[FINGERPRINT_NAME]
    # Every secret is still a secret: the CLI encrypts these on import.
    cache = state.document["deployment"]["resources"][0]["outputs"]
    assert SECRET_SIG in cache["password"] and SECRET_SIG in root["env"]


def test_a_resource_the_state_lacks_is_named() -> None:
    state = StackState("local", Path("."))
    state.document = _document()
    with pytest.raises(Exception, match="no resource 'database-server'; run `up` first"):
        state.outputs("database-server")


def test_journal_round_trip_is_private_and_interrupts_at_the_named_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal("local", tmp_path)
    entry = Entry(kinds=["cache"], before="aaaa")
    journal.record(entry, "begun")
    assert journal.path.stat().st_mode & 0o777 == 0o600
    assert journal.read() == Entry(kinds=["cache"], step="begun", before="aaaa")
    got: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: got.append(signum))
    try:
        monkeypatch.setenv(INTERRUPT_ENV, "saved")
        journal.record(entry, "created")
        assert got == []
        journal.record(entry, "saved")
        assert got == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)
    assert journal.read().step == "saved"  # type: ignore[union-attr]
    journal.clear()
    assert journal.read() is None


def test_a_damaged_journal_is_named(tmp_path: Path) -> None:
    journal = Journal("local", tmp_path)
    journal.path.parent.mkdir(parents=True)
    journal.path.write_text("{not json")
    with pytest.raises(JournalDamaged, match=str(journal.path)):
        journal.read()


def test_a_state_that_is_not_json_is_a_state_error_naming_the_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`up` asks a cloud stack's state for its database login after every deploy: a CLI that
    prints anything but JSON must be a named StateError, never a crash of the gate."""
    fake = tmp_path / "pulumi"
    fake.write_text("#!/bin/sh\necho 'warning: something'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    with pytest.raises(StateError, match="dev printed no JSON"):
        StackState("dev", tmp_path).load()
