"""drift/diff.py and drift/report.py: which changes are drift, expected against actual, and that
no secret value reaches the table or the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drift import report
from drift.diff import Drift, DriftParseError, masked, parse
from tests.unit.drift.events import outputs_event, redis_outputs, stream


def test_a_managed_setting_read_differently_is_drift_expected_against_actual() -> None:
    old = redis_outputs()
    new = redis_outputs(maxmemory="536870912")
    drifts = parse(stream(outputs_event("cache-server", old, new)))
    assert drifts == [
        Drift(
            "cache-server", "pulumi-python:dynamic:Resource", "maxmemory", "268435456", "536870912"
        )
    ]


def test_drift_still_shows_after_a_refresh_wrote_the_observed_values() -> None:
    # `pulumi refresh` (written) makes old == new; the program still expects `managed`.
    drifted = redis_outputs(maxmemory="1")
    drifts = parse(stream(outputs_event("cache-server", drifted, drifted, op="same")))
    assert [(d.property, d.expected, d.actual) for d in drifts] == [("maxmemory", "268435456", "1")]


def test_a_clean_stack_has_no_drift_and_a_key_a_read_only_adds_is_none() -> None:
    env_old = {"__provider": "[secret]", "path": "/p/.env.local", "values": "[secret]"}
    env_new = {**env_old, "present": True}
    events = [
        outputs_event("cache-server", redis_outputs(), redis_outputs(), op="same"),
        outputs_event("app-env-file", env_old, env_new, op="same"),
    ]
    assert parse(stream(*events)) == []


def test_a_dead_server_and_a_deleted_resource_are_named() -> None:
    dead = {**redis_outputs(listen="nothing listens"), "running": False}
    events = [
        outputs_event("cache-server", redis_outputs(), dead),
        outputs_event("storage-bucket", {"bucket": "b"}, None, op="delete"),
    ]
    found = {(d.resource, d.property): (d.expected, d.actual) for d in parse(stream(*events))}
    assert found == {
        ("cache-server", "running"): ("yes", "no"),
        ("cache-server", "listen"): ("127.0.0.1:6390", "nothing listens"),
        ("storage-bucket", "(resource)"): ("exists", "gone (deleted out of band)"),
    }


def test_other_outputs_a_read_changed_are_drift_property_by_property() -> None:
    # A cloud resource: no managed/observed, its outputs are what the provider read.
    old = {"bucket": "v", "versioning": {"enabled": True, "mfaDelete": False}}
    new = {"bucket": "v", "versioning": {"enabled": False, "mfaDelete": False}}
    drifts = parse(stream(outputs_event("video-bucket", old, new)))
    assert [(d.property, d.expected, d.actual) for d in drifts] == [
        ("versioning.enabled", "yes", "no")
    ]


def test_secrets_are_masked_by_pulumi_mark_by_name_and_inside_urls() -> None:
    old = {"password": "old-plain-password-1", "url": "redis://default:pw-in-url-123@h:1/0"}
    new = {"password": "new-plain-password-2", "url": "redis://default:other-pw-4567@h:1/0"}
    secret_old = {"token": "[secret]", "note": "a"}
    secret_new = {"token": "[secret]", "note": "b"}
    drifts = parse(
        stream(
            outputs_event("a", old, new),
            outputs_event("b", secret_old, secret_new),
        )
    )
    text = report.table("dev", drifts) + json.dumps(report.document("dev", drifts))
    for value in ("old-plain-password-1", "new-plain-password-2", "pw-in-url-123", "other-pw-4567"):
        assert value not in text
    assert ("password", "***", "***") in [(d.property, d.expected, d.actual) for d in drifts]
    assert masked("AWS_SECRET_ACCESS_KEY", "abc") == "***" and masked("x", "[secret]") == "***"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json\n", "line 1 of pulumi's output is not JSON"),
        ('{"sequence": 0}\n', "no summaryEvent"),
        ("[1, 2]\n", "not an engine event"),
    ],
)
def test_output_that_is_not_a_refresh_preview_is_refused(text: str, why: str) -> None:
    with pytest.raises(DriftParseError, match=why):
        parse(text)


def test_an_interrupted_stream_is_not_read_as_clean() -> None:
    with pytest.raises(DriftParseError, match="did not end"):
        parse(stream(outputs_event("cache-server", redis_outputs(), redis_outputs()), ended=False))


def test_the_table_and_the_json_report_name_each_drift(tmp_path: Path) -> None:
    drifts = [
        Drift("cache-server", "t", "maxmemory", "268435456", "536870912"),
        Drift("database-server", "t", "app role superuser", "no", "yes"),
    ]
    table = report.table("local", drifts).splitlines()
    assert table[0] == "local: 2 drifted properties"
    assert table[1].split() == ["resource", "property", "expected", "actual"]
    assert table[3].split() == ["database-server", "app", "role", "superuser", "no", "yes"]
    path = tmp_path / "reports" / "drift.json"
    report.write_json(path, "local", drifts)
    document = json.loads(path.read_text())
    assert document["drifted"] is True and document["count"] == 2
    assert document["drift"][0] == {
        "resource": "cache-server",
        "type": "t",
        "property": "maxmemory",
        "expected": "268435456",
        "actual": "536870912",
    }
    assert "| database-server | app role superuser | no | yes |" in document["markdown"]
    assert report.table("local", []) == "local: no drift (every resource matches the state)"
