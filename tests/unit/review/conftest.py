"""A fake checkout for review's unit tests: the real Pulumi.yaml and Pulumi.local.yaml, and a
fake `pulumi` on PATH that answers `stack ls --json` from a file (no backend, no engine)."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from devtools.project import REPO

FAKE_PULUMI = """#!/usr/bin/env python3
# Fake pulumi for review's unit tests: `stack ls --json` prints the stacks file, `stack init`
# and `stack rm` edit it; every call is logged.
import json, os, sys
folder = os.environ["FAKE_PULUMI_DIR"]
with open(os.path.join(folder, "calls"), "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
path = os.path.join(folder, "stacks.json")
stacks = json.load(open(path))
verb = sys.argv[1:3]
if verb == ["stack", "ls"]:
    print(json.dumps(stacks))
elif verb == ["stack", "init"]:
    if any(s["name"] == sys.argv[3] for s in stacks):
        sys.exit(f"error: stack '{sys.argv[3]}' already exists")
    json.dump(stacks + [{"name": sys.argv[3]}], open(path, "w"))
elif verb == ["stack", "rm"]:
    json.dump([s for s in stacks if s["name"] != sys.argv[3]], open(path, "w"))
"""


class FakeBackend:
    """The fake pulumi's stacks and calls."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def set_stacks(self, names: list[str]) -> None:
        (self.folder / "stacks.json").write_text(json.dumps([{"name": n} for n in names]))

    def stacks(self) -> list[str]:
        return [s["name"] for s in json.loads((self.folder / "stacks.json").read_text())]

    def calls(self) -> list[str]:
        path = self.folder / "calls"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.local.yaml"):
        shutil.copy2(REPO / name, root / name)
    return root


@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    folder = tmp_path / "fake-pulumi"
    folder.mkdir()
    script = folder / "pulumi"
    script.write_text(FAKE_PULUMI)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_DIR", str(folder))
    fake = FakeBackend(folder)
    fake.set_stacks([])
    return fake
