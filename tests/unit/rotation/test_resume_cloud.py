"""After every deploy `up` puts back a cloud stack's database login when a restore rewound it
(rotation/resume.py `repair_cloud_login`; the repair itself runs on a real PostgreSQL in
tests/integration/test_cloud_db_login.py). A local stack is never asked, and a cloud stack
whose state cannot be read or has no login of its own is left alone: never a failed gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from rotation.resume import repair_cloud_login


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "Pulumi.local.yaml").write_text("config:\n  mentora:target: local\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  mentora:target: cloud\n")
    fake = tmp_path / "pulumi"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/calls\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    return tmp_path


def calls(checkout: Path) -> list[str]:
    path = checkout / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_a_local_stack_is_never_asked(checkout: Path) -> None:
    said: list[str] = []
    assert repair_cloud_login("local", checkout, said.append) == ""
    assert calls(checkout) == [] and said == []


def test_a_cloud_stack_whose_state_cannot_be_read_is_left_alone(checkout: Path) -> None:
    said: list[str] = []
    assert repair_cloud_login("dev", checkout, said.append) == ""
    assert calls(checkout) == ["stack export --show-secrets --stack dev"] and said == []
