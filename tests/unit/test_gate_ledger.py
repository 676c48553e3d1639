"""The gate's ledger over a fake `pulumi` that keeps stack tags in a JSON file: records round
trip, a hold always fits one tag value, a tag written by hand is never trusted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gate.ledger import HOLD_TAG, TAG_VALUE_MAX, Hold, LastKnownGood, Ledger

FAKE_PULUMI = """#!/usr/bin/env python3
import json, pathlib, sys
store = pathlib.Path(sys.argv[0]).with_name("tags.json")
tags = json.loads(store.read_text()) if store.exists() else {}
args = sys.argv[1:]
args = args[: args.index("--stack")]
if args[:2] == ["stack", "history"]:
    print(json.dumps([{"version": 0}, {"version": 0}, {"version": 0}]))
elif args[:3] == ["stack", "tag", "ls"]:
    print(json.dumps(tags))
elif args[:3] == ["stack", "tag", "set"]:
    if len(args[4]) > 256:
        sys.exit("error: tag value too long")
    tags[args[3]] = args[4]
    store.write_text(json.dumps(tags))
elif args[:3] == ["stack", "tag", "rm"]:
    tags.pop(args[3])
    store.write_text(json.dumps(tags))
"""


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    (tmp_path / "pulumi").write_text(FAKE_PULUMI)
    (tmp_path / "pulumi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    return Ledger("dev", tmp_path)


def test_green_records_the_last_known_good_and_the_gate(ledger: Ledger) -> None:
    lkg = LastKnownGood("a" * 40, ledger.update_count(), "cfg123", "2026-12-02T00:00:00Z")
    ledger.record_green(lkg)
    assert ledger.last_known_good() == LastKnownGood("a" * 40, 3, "cfg123", lkg.at)
    last = ledger.last_gate()
    assert last is not None and (last.outcome, last.commit) == ("green", "a" * 40)


def test_a_hold_fits_one_tag_value_and_release_lifts_it(ledger: Ledger) -> None:
    reason = "not rolled back across a schema change: " + ", ".join(
        f"2026120100000{i}_a_long_migration_name.sql" for i in range(10)
    )
    ledger.set_hold(Hold(reason, "b" * 40, "2026-12-02T00:00:00Z", "reports/prod.json"))
    stored = ledger.tags()[HOLD_TAG]
    assert len(stored) <= TAG_VALUE_MAX
    hold = ledger.hold()
    assert hold is not None and hold.reason.endswith("...") and reason.startswith(hold.reason[:-3])
    assert ledger.release() is True and ledger.hold() is None
    assert ledger.release() is False


def test_a_tag_written_by_hand_is_not_trusted(ledger: Ledger) -> None:
    ledger.pulumi("stack", "tag", "set", "mentora:lkg", "deploy me")
    assert ledger.last_known_good() is None
    ledger.pulumi("stack", "tag", "set", "mentora:lkg", json.dumps({"commit": "x"}))
    assert ledger.last_known_good() is None


def test_any_value_of_the_hold_tag_is_a_hold(ledger: Ledger) -> None:
    for value in ("HOLD: incident 123", "true", '{"why": "x"}', "[]"):
        ledger.pulumi("stack", "tag", "set", HOLD_TAG, value)
        hold = ledger.hold()
        assert hold is not None and value[:20] in hold.reason


def test_a_gate_lifts_only_the_hold_it_set(ledger: Ledger) -> None:
    mine = Hold("rollback to abc interrupted", "c" * 40, "2026-12-04T00:00:00Z")
    ledger.set_hold(Hold("incident 7", "d" * 40, "2026-12-04T00:00:01Z"))
    assert ledger.release_own(mine) is False and ledger.hold() is not None
    ledger.set_hold(mine)
    assert ledger.release_own(mine) is True and ledger.hold() is None
