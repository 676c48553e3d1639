"""review/settings.py + the record: a review stack's settings derive from the base stack's
file, its ports never collide (with the base, with each other, with a taken port), and they are
recorded before anything starts."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
import yaml

from review import local as review_local
from review import settings
from review.errors import ReviewUsage
from review.state import CREATING, Paths, Record, known_stacks
from stacks.config import parse_stack_config
from tests.unit.review.conftest import FakeBackend


def config_of(path: Path) -> dict[str, str]:
    return (yaml.safe_load(path.read_text()) or {})["config"]


def test_derived_settings_are_valid_and_differ_where_they_must(checkout: Path) -> None:
    record = review_local._prepare(checkout, "pr-7", 7, 3600)
    paths = Paths(checkout, "pr-7")
    base, derived = config_of(checkout / "Pulumi.local.yaml"), config_of(paths.config_file)
    # The program's own validation accepts it (every key known, ports distinct).
    raw = {k.removeprefix("mentora:"): str(v) for k, v in derived.items()}
    local = parse_stack_config("pr-7", raw).local
    assert local is not None
    assert local.state_dir == paths.servers and local.env_file == paths.env_file
    assert derived["mentora:bucketName"] == "mentora-videos-pr-7"
    assert local.backups is False  # disposable: no archive, no archiver (docs/review.md)
    # Its error project is in the base's Bugsink: `review list` links that one.
    assert record.urls["errors"] == "http://127.0.0.1:9100"
    assert record.urls["app"] == f"http://127.0.0.1:{record.ports['appPort']}"
    ports = {k: int(v) for k, v in derived.items() if k.endswith("Port")}
    assert ports == {f"mentora:{k}": v for k, v in record.ports.items()}
    assert set(record.ports) == set(settings.port_keys(checkout))  # every declared server
    base_ports = {int(v) for k, v in base.items() if k.endswith("Port")}
    assert not base_ports & set(ports.values())  # the lead's live `local` keeps its ports
    # Everything else is the base's, unchanged.
    same = {k for k in base if k not in derived or base[k] == derived[k]}
    changed = {*ports, "mentora:bucketName", "mentora:stateDir", "mentora:envFile"}
    changed |= {"mentora:databaseName", "mentora:appUser"}  # its own in the base's Postgres
    assert (local.base_stack, derived["mentora:databaseName"]) == ("local", "mentora_pr_7")
    assert derived["mentora:appUser"] == "mentora_app_pr_7"
    assert set(base) - same == changed & set(base)
    declared = yaml.safe_load((checkout / "Pulumi.yaml").read_text())["config"]
    defaults = {int(declared[k]["default"]) for k in ports}
    assert not defaults & set(ports.values())  # nor the ports a base without the key uses
    # Recorded before anything starts, so a killed `up` is sweepable.
    assert Record.load(checkout, "pr-7") is not None
    assert Record.load(checkout, "pr-7").phase == CREATING  # type: ignore[union-attr]
    assert known_stacks(checkout) == {"pr-7"}


def test_an_update_keeps_the_ports_and_the_salt_pulumi_added(checkout: Path) -> None:
    first = review_local._prepare(checkout, "pr-3", 3, 3600)
    paths = Paths(checkout, "pr-3")
    paths.config_file.write_text(paths.config_file.read_text() + "encryptionsalt: v1:abc\n")
    again = review_local._prepare(checkout, "pr-3", 3, 60)
    assert again.ports == first.ports and again.ttl_s == 60
    assert yaml.safe_load(paths.config_file.read_text())["encryptionsalt"] == "v1:abc"


def test_concurrent_stacks_never_share_a_port(checkout: Path) -> None:
    # Attacker: eight `review up`s allocate at once (threads: each takes its own flock).
    records: dict[int, Record] = {}

    def prepare(pr: int) -> None:
        records[pr] = review_local._prepare(checkout, f"pr-{pr}", pr, 3600)

    threads = [threading.Thread(target=prepare, args=(pr,)) for pr in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    ports = [p for r in records.values() for p in r.ports.values()]
    assert len(records) == 8 and len(ports) == len(set(ports))


def test_a_taken_port_is_skipped(checkout: Path) -> None:
    start = settings.allocate("pr-5", ["appPort"], set())["appPort"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", start))
        sock.listen()
        again = settings.allocate("pr-5", ["appPort"], set())["appPort"]
    assert again != start


def test_a_cloud_base_is_refused(checkout: Path) -> None:
    base = checkout / "Pulumi.local.yaml"
    base.write_text(base.read_text().replace("mentora:target: local", "mentora:target: cloud"))
    with pytest.raises(ReviewUsage, match="local review stacks derive from a local base"):
        settings.base_config(checkout)


def test_the_generated_file_is_git_ignored() -> None:
    from devtools.project import REPO

    assert "/Pulumi.pr-*.yaml" in (REPO / ".gitignore").read_text().splitlines()


def test_sweep_reasons_with_an_injected_clock(checkout: Path, backend: FakeBackend) -> None:
    for pr in (1, 2, 3):
        review_local._prepare(checkout, f"pr-{pr}", pr, 100)
    for pr in (1, 2):
        record = Record.load(checkout, f"pr-{pr}")
        assert record is not None
        record.phase = "up"
        record.save(checkout)
    backend.set_stacks(["local", "pr-1", "pr-2", "pr-3", "pr-9"])  # pr-9: no record at all
    t = Record.load(checkout, "pr-1").updated_at  # type: ignore[union-attr]
    reasons = review_local.sweep_reasons(checkout, None, clock=t + 50)
    assert set(reasons) == {"pr-3", "pr-9"}  # half-made (creating) and unknown to us
    assert "half-made" in reasons["pr-3"] and "no record" in reasons["pr-9"]
    later = review_local.sweep_reasons(checkout, None, clock=t + 101)
    assert "expired" in later["pr-1"] and "expired" in later["pr-2"]
    closed = review_local.sweep_reasons(checkout, {1}, clock=t + 50)
    assert "not open" in closed["pr-2"] and "pr-1" not in closed
