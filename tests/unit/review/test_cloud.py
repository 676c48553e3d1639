"""Cloud review stacks' up/down/sweep (review/cloud.py) against a recording `pulumi` on PATH:
credentials named before anything runs, settings derived from dev by the CLI, `down` that
destroys then removes and succeeds when the stack is already gone (pulumi/actions #1001, #681),
`sweep` of closed pull requests' stacks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gate.exitcodes import Exit
from review import cloud
from review.errors import ReviewUsage

CREDENTIALS = {
    "PULUMI_CONFIG_PASSPHRASE": "p",
    "AWS_ACCESS_KEY_ID": "k",
    "AWS_SECRET_ACCESS_KEY": "s",
    "PULUMI_ACCESS_TOKEN": "t",
}
HEAD = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `pulumi` that logs its arguments and lists the stacks named in `stacks.json`; `stack rm`
    removes one from there, like the backend."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "stacks.json").write_text("[]")
    script = bin_dir / "pulumi"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"root = {str(tmp_path)!r}\n"
        "open(root + '/calls.log', 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "stacks = json.load(open(root + '/stacks.json'))\n"
        "if sys.argv[1:3] == ['stack', 'ls']:\n"
        "    print(json.dumps([{'name': s} for s in stacks]))\n"
        "elif sys.argv[1:3] == ['stack', 'rm']:\n"
        "    json.dump([s for s in stacks if s != sys.argv[3]], open(root + '/stacks.json', 'w'))\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def calls(root: Path) -> list[str]:
    log = root / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_every_missing_credential_is_named_before_anything_runs(fake_pulumi: Path) -> None:
    with pytest.raises(ReviewUsage) as caught:
        cloud.up(fake_pulumi, 42, "feat/x", HEAD, 120, {})
    text = str(caught.value)
    for name in (*cloud.CREDENTIALS, "PULUMI_ACCESS_TOKEN or MENTORA_BACKEND_URL"):
        assert name in text, name
    assert "nothing was touched" in text
    assert calls(fake_pulumi) == []
    with pytest.raises(ReviewUsage, match="--head 'abc'"):
        cloud.up(fake_pulumi, 42, "feat/x", "abc", 120, CREDENTIALS)
    with pytest.raises(ReviewUsage, match="AWS_SECRET_ACCESS_KEY"):
        cloud.down(fake_pulumi, 42, {**CREDENTIALS, "AWS_SECRET_ACCESS_KEY": ""}, print)
    assert calls(fake_pulumi) == []


def test_settings_are_devs_copied_by_the_cli_minus_its_domains_plus_the_pr() -> None:
    assert cloud.config_commands("pr-42", "feat/x", HEAD) == [
        ["config", "cp", "--stack", "dev", "--dest", "pr-42"],
        ["config", "rm", "mentora:domains", "--stack", "pr-42"],
        ["config", "set", "mentora:reviewBranch", "feat/x", "--stack", "pr-42"],
        ["config", "set", "mentora:appCommit", HEAD, "--stack", "pr-42"],
    ]


def test_down_of_a_stack_already_gone_succeeds_saying_so(fake_pulumi: Path) -> None:
    said: list[str] = []
    assert cloud.down(fake_pulumi, 42, CREDENTIALS, said.append) is Exit.GREEN
    assert said == ["pr-42: no such review stack (already gone); nothing to do"]
    assert not any(c.startswith("destroy") for c in calls(fake_pulumi))


def test_down_destroys_then_removes_the_stack(fake_pulumi: Path) -> None:
    (fake_pulumi / "stacks.json").write_text(json.dumps(["dev", "pr-42"]))
    assert cloud.down(fake_pulumi, 42, CREDENTIALS, lambda _: None) is Exit.GREEN
    made = [c for c in calls(fake_pulumi) if not c.startswith("stack ls")]
    assert made == [
        "destroy --yes --skip-preview --stack pr-42 --non-interactive",
        "stack rm pr-42 --force --yes --non-interactive",
    ]
    assert json.loads((fake_pulumi / "stacks.json").read_text()) == ["dev"]


def test_sweep_removes_the_stacks_of_closed_prs_only(fake_pulumi: Path) -> None:
    (fake_pulumi / "stacks.json").write_text(json.dumps(["dev", "pr-1", "pr-2", "pr-3"]))
    assert cloud.sweep(fake_pulumi, {2}, CREDENTIALS, lambda _: None) is Exit.GREEN
    assert json.loads((fake_pulumi / "stacks.json").read_text()) == ["dev", "pr-2"]
    destroyed = [c.split("--stack ")[1].split()[0] for c in calls(fake_pulumi) if "destroy" in c]
    assert destroyed == ["pr-1", "pr-3"]
