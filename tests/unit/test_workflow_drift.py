""".github/workflows/drift.yml (issue 23, item 3): scheduled per cloud stack with minimal
permissions, `mentora-infra drift` telling drift (6) from errors, and its issue script run for
real under node against a fake of the GitHub REST API (octokit's `issues.listForRepo`,
`create`, `update`, `createComment`, as actions/github-script v7 exposes them): one issue per
stack, found again by its marker, never a duplicate, closed when the stack is clean.
(actionlint runs on it in tests/unit/test_workflows.py.)"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.exitcodes import Exit

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "drift.yml"

# Runs the workflow's script as github-script does (an async function body with `github`,
# `context`, `require` in scope), against an in-memory issue list; prints the calls made.
HARNESS = r"""
const fs = require('fs');
const state = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const script = fs.readFileSync(process.argv[3], 'utf8');
const calls = [];
let next = 100;
const issues = state.issues;
const github = {
  paginate: async (method, params) => method(params, true),
  rest: { issues: {
    listForRepo: async (p) => {
      calls.push(['listForRepo', p.state, p.labels]);
      return issues.filter((i) => i.state === p.state && i.labels.includes(p.labels));
    },
    create: async (p) => {
      calls.push(['create', p.title, p.labels]);
      issues.push({ number: next++, state: 'open', labels: p.labels, body: p.body });
    },
    update: async (p) => {
      calls.push(['update', p.issue_number, p.state || null]);
      const issue = issues.find((i) => i.number === p.issue_number);
      if (p.body !== undefined) issue.body = p.body;
      if (p.state !== undefined) issue.state = p.state;
    },
    createComment: async (p) => calls.push(['createComment', p.issue_number]),
  } },
};
const context = { repo: { owner: 'o', repo: 'r' }, serverUrl: 'https://github.com', runId: 7 };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('github', 'context', 'require', script)(github, context, require)
  .then(() => console.log(JSON.stringify({ calls, issues })))
  .catch((e) => { console.error(e); process.exit(1); });
"""


def workflow() -> dict[str, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text()))


def steps() -> dict[str, dict[str, Any]]:
    return {s.get("name", s.get("uses", "")): s for s in workflow()["jobs"]["drift"]["steps"]}


def test_it_runs_on_a_schedule_per_cloud_stack_with_minimal_permissions() -> None:
    document = workflow()
    triggers = document[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    assert document["permissions"] == {"contents": "read", "issues": "write"}
    job = document["jobs"]["drift"]
    assert "permissions" not in job  # nothing widened per job
    assert {(m["stack"], m["environment"]) for m in job["strategy"]["matrix"]["include"]} == {
        ("dev", "development"),
        ("prod", "production"),
    }
    assert job["environment"] == "${{ matrix.environment }}"
    assert job["env"]["MENTORA_STACK"] == "${{ matrix.stack }}"


def test_the_drift_step_fails_on_errors_and_passes_drift_on_to_the_issue() -> None:
    run = steps()["Find drift"]["run"]
    assert 'mentora-infra drift "$MENTORA_STACK"' in run and "--json" in run
    assert f'[ "$code" -ne {int(Exit.DRIFT)} ]' in run and 'exit "$code"' in run
    issue = steps()["Open, update or close the stack's drift issue"]
    assert issue["env"]["DRIFT_CODE"] == "${{ steps.drift.outputs.code }}"


def script_run(tmp_path: Path, code: str, issues: list[dict[str, Any]]) -> dict[str, Any]:
    if shutil.which("node") is None:
        pytest.skip("node is needed to run the workflow's script")
    script = steps()["Open, update or close the stack's drift issue"]["with"]["script"]
    (tmp_path / "reports").mkdir(exist_ok=True)
    report = {"count": 1, "markdown": "| resource | property | expected | actual |"}
    (tmp_path / "reports" / "drift-prod.json").write_text(json.dumps(report))
    (tmp_path / "state.json").write_text(json.dumps({"issues": issues}))
    (tmp_path / "script.js").write_text(script)
    (tmp_path / "harness.js").write_text(HARNESS)
    done = subprocess.run(
        ["node", "harness.js", "state.json", "script.js"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "MENTORA_STACK": "prod", "DRIFT_CODE": code},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def other_stacks_issue() -> dict[str, Any]:
    return {"number": 1, "state": "open", "labels": ["drift"], "body": "<!-- mentora-drift:dev -->"}


def test_drift_opens_one_issue_then_updates_it_never_a_duplicate(tmp_path: Path) -> None:
    first = script_run(tmp_path, str(int(Exit.DRIFT)), [other_stacks_issue()])
    assert [c[0] for c in first["calls"]] == ["listForRepo", "create"]
    assert first["calls"][1] == ["create", "Drift on prod", ["drift"]]
    second = script_run(tmp_path, str(int(Exit.DRIFT)), first["issues"])
    assert [c[0] for c in second["calls"]] == ["listForRepo", "update"]
    prod = [i for i in second["issues"] if "<!-- mentora-drift:prod -->" in i["body"]]
    assert len(prod) == 1 and prod[0]["state"] == "open"
    assert "| resource | property | expected | actual |" in prod[0]["body"]


def test_a_clean_run_closes_the_stacks_issue_only(tmp_path: Path) -> None:
    opened = script_run(tmp_path, str(int(Exit.DRIFT)), [other_stacks_issue()])["issues"]
    clean = script_run(tmp_path, "0", opened)
    assert [c[0] for c in clean["calls"]] == ["listForRepo", "createComment", "update"]
    states = {i["body"].split("\n")[0]: i["state"] for i in clean["issues"]}
    assert states == {"<!-- mentora-drift:dev -->": "open", "<!-- mentora-drift:prod -->": "closed"}
    assert script_run(tmp_path, "0", clean["issues"])["calls"] == [
        ["listForRepo", "open", "drift"]
    ]  # nothing open for prod: nothing to do
