"""Findings 2 and 5 of issue 19: a rollback deploys exactly what was green or holds, naming why
(a dirty LKG, an untracked applied migration, other settings); a hold tag in any format holds.
Real gate CLI and git, fake `pulumi` (tests/unit/gate/fakes.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.exitcodes import Exit
from gate.ledger import HOLD_TAG, LKG_TAG, LastKnownGood
from gate.rollback import unreproducible
from gate.source import config_digest, head_commit, migration_blobs_here, migrations_digest
from tests.unit.gate.fakes import STACK_FILE, Project, make_project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = make_project(tmp_path)
    yield project
    project.stop_leftovers()


def ups(project: Project) -> list[str]:
    return [line for line in project.log() if line.startswith("up start")]


def lkg(project: Project) -> dict[str, str]:
    return json.loads(project.tags()[LKG_TAG])  # type: ignore[no-any-return]


def test_a_clean_last_known_good_is_rolled_back_to(project: Project) -> None:
    a = project.commit("pass")
    assert project.gate("up", "local")[0] == Exit.GREEN
    project.commit("fail")
    code, output = project.gate("up", "local", "--on-fail", "rollback")
    assert code == Exit.ROLLED_BACK, output
    assert ups(project)[-1] == f"up start local-{a[:12]} ok"
    args = [line for line in project.log() if line.startswith("up args")]
    assert all("allow" not in line for line in args), args  # never a data-loss override
    assert HOLD_TAG not in project.tags() and lkg(project)["commit"] == a


def test_a_smoke_suite_that_does_not_import_is_a_failure_not_an_interrupt(
    project: Project,
) -> None:
    a = project.commit("pass")
    assert project.gate("up", "local")[0] == Exit.GREEN
    project.commit("collect-error")  # pytest's exit 2, as on Ctrl-C, but no signal was sent
    code, output = project.gate("up", "local", "--on-fail", "rollback")
    assert code == Exit.ROLLED_BACK, output
    assert ups(project)[-1] == f"up start local-{a[:12]} ok"


def test_a_dirty_last_known_good_is_never_rolled_back_to(project: Project) -> None:
    project.commit("pass")
    # The port change of the finding, not committed: green, but only from this tree.
    (project.root / "Pulumi.local.yaml").write_text(STACK_FILE.replace("6390", "6391"))
    assert project.gate("up", "local")[0] == Exit.GREEN
    assert lkg(project)["commit"].endswith("+dirty")
    project.commit("fail")
    code, output = project.gate("up", "local", "--on-fail", "rollback")
    assert code == Exit.HELD, output
    assert "uncommitted changes" in output
    assert len(ups(project)) == 2  # the failed deploy only: nothing rolled back
    assert "uncommitted changes" in json.loads(project.tags()[HOLD_TAG])["reason"]


def test_an_untracked_applied_migration_is_never_recorded_as_clean(project: Project) -> None:
    project.commit("pass")
    extra = project.root / "supabase" / "migrations" / "20261202000000_untracked.sql"
    extra.write_text("create table t (id int);\n")
    assert project.gate("up", "local")[0] == Exit.GREEN
    assert lkg(project)["commit"].endswith("+dirty")


def test_settings_or_migrations_the_commit_lacks_make_it_unreproducible(
    project: Project,
) -> None:
    sha = project.commit("pass")
    settings = config_digest("local", project.root)
    migrations = migrations_digest(migration_blobs_here(project.root))
    exact = LastKnownGood(sha, 1, settings, "t", migrations)
    assert unreproducible(exact, "local", project.root) is None
    other_settings = LastKnownGood(sha, 1, "0" * 16, "t", migrations)
    assert "settings" in (unreproducible(other_settings, "local", project.root) or "")
    other_migrations = LastKnownGood(sha, 1, settings, "t", "0" * 16)
    assert "migrations" in (unreproducible(other_migrations, "local", project.root) or "")
    old_record = LastKnownGood(sha, 1, settings, "t")
    assert "does not say" in (unreproducible(old_record, "local", project.root) or "")


def test_the_salt_line_does_not_change_the_settings_digest(project: Project) -> None:
    before = config_digest("local", project.root)
    stack_file = project.root / "Pulumi.local.yaml"
    stack_file.write_text("encryptionsalt: v1:abc\n" + stack_file.read_text())
    assert config_digest("local", project.root) == before


@pytest.mark.parametrize("value", ["HOLD: incident 123", "yes", "{}"])
def test_a_hold_tag_in_any_format_holds(project: Project, value: str) -> None:
    project.commit("pass")
    project.tags()  # no tags yet
    (project.state / "tags.json").write_text(json.dumps({HOLD_TAG: value}))
    code, output = project.gate("up", "local")
    assert code == Exit.HELD, output
    assert project.tags()[HOLD_TAG] == value  # not deleted
    assert ups(project) == []
    status = project.gate("status", "local", "--json")
    assert status[0] == Exit.GREEN
    assert json.loads(status[1].strip().splitlines()[-1])["hold"] is not None


def test_the_salt_line_the_git_filter_strips_is_not_a_dirty_tree(project: Project) -> None:
    # As bootstrap sets it up: the per-machine salt line is kept out of commits by a filter;
    # `git status` calls the file modified (its size differs), its content is not.
    (project.root / ".gitattributes").write_text("Pulumi.local.yaml filter=salt\n")
    project.git("config", "filter.salt.clean", "sed '/^encryptionsalt:/d'")
    project.git("config", "filter.salt.smudge", "cat")
    sha = project.commit("pass")
    stack_file = project.root / "Pulumi.local.yaml"
    stack_file.write_text("encryptionsalt: v1:abc\n" + stack_file.read_text())
    assert head_commit(project.root) == sha
    (project.root / "notes.txt").write_text("untracked\n")
    assert head_commit(project.root) == f"{sha}+dirty"


def test_allow_data_loss_reaches_the_forward_deploy_only_never_a_rollback(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.commit("pass")
    assert project.gate("up", "local")[0] == Exit.GREEN
    project.commit("fail")
    monkeypatch.setenv("MENTORA_ALLOW_DATA_LOSS", "1")  # inherited from a shell: ignored
    code, output = project.gate("up", "local", "--on-fail", "rollback", "--allow-data-loss")
    assert code == Exit.ROLLED_BACK, output
    flags = [line for line in project.log() if line.startswith("up data-loss")]
    assert flags == ["up data-loss -", "up data-loss 1", "up data-loss -"], flags
    # The forward deploy keeps its preview: a refusal comes before anything is touched.
    args = [line for line in project.log() if line.startswith("up args")]
    assert "--skip-preview" not in args[1], args


def test_the_preview_is_skipped_only_when_the_last_green_deployment_is_deployed_again(
    project: Project,
) -> None:
    project.commit("pass")
    assert project.gate("up", "local")[0] == Exit.GREEN  # no last-known-good yet: previewed
    assert project.gate("up", "local")[0] == Exit.GREEN  # the same commit and settings again
    project.commit("pass")
    assert project.gate("up", "local")[0] == Exit.GREEN  # a new commit: previewed
    args = [line for line in project.log() if line.startswith("up args")]
    assert ["--skip-preview" in line for line in args] == [False, True, False], args
