"""The review stack's PR comment: marker first, app URL, `pulumi up`'s Resources summary, and the
smoke table from smoke's own JSON report (written here by smoke/report.py's `write_json`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review import comment
from smoke.report import CheckResult, write_json

UP_LOG = """Updating (pr-42)
     Type                 Name        Status
 +   pulumi:pulumi:Stack  mentora-pr-42  created
Outputs:
    app_url: "https://mentora-dev-abc.vercel.app"

Resources:
    + 41 created
    ~ 1 updated
    2 unchanged

Duration: 4m12s
"""


def check(service: str, outcome: str) -> CheckResult:
    return CheckResult(
        check=f"smoke/checks/{service}.py::test_x",
        service=service,
        name="test_x",
        outcome=outcome,
        target="redacted",
        duration_s=0.1,
        latency_ms=12.5,
    )


def test_the_comment_starts_with_its_marker_and_carries_url_summary_and_table(
    tmp_path: Path,
) -> None:
    report = tmp_path / "pr-42.json"
    write_json(report, [check("database", "passed"), check("cache", "failed")])
    text = comment.body(
        "pr-42",
        head="0123456789abcdef",
        app_url="https://mentora-dev-abc.vercel.app",
        log=UP_LOG,
        report=json.loads(report.read_text()),
    )
    lines = text.splitlines()
    assert lines[0] == "<!-- mentora-review:pr-42 -->"  # what the workflow finds it by
    assert "**App:** https://mentora-dev-abc.vercel.app" in lines
    assert comment.diff_summary(UP_LOG) == ["+ 41 created", "~ 1 updated", "2 unchanged"]
    assert "| database | 1 | 0 | 0 | 12.5 |" in lines
    assert "| cache | 0 | 1 | 0 | 12.5 |" in lines
    assert "**smoke FAILED (finished)**" in lines
    assert "<details><summary>log tail</summary>" in lines  # a failure shows the log


def test_a_deploy_that_failed_before_smoke_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "up.log").write_text("error: boom\n")
    code = comment.main(
        ["pr-7", "--log", str(tmp_path / "up.log"), "--report", str(tmp_path / "none.json")]
    )
    text = capsys.readouterr().out
    assert code == 0 and text.startswith("<!-- mentora-review:pr-7 -->\n")
    assert "_not deployed_" in text and "no smoke report" in text and "error: boom" in text
