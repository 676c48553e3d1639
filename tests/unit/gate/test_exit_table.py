"""The one exit-code table: README's table and `mentora-infra --help` say what gate/exitcodes.py
says. Issue 23 asks `drift` to exit 6 when it finds drift; busy (another gate holds the stack)
is 7, so no two meanings share a number and a workflow can tell drift from a held lock."""

from __future__ import annotations

import re
from pathlib import Path

from gate.exitcodes import MEANINGS, Exit, table

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_codes() -> dict[int, str]:
    rows = re.findall(r"^\| `(\d+)` \| (\w+)", README.read_text(), flags=re.MULTILINE)
    return {int(code): word for code, word in rows}


def test_drift_is_6_and_busy_is_7_as_issue_23_asks() -> None:
    assert (int(Exit.DRIFT), int(Exit.BUSY)) == (6, 7)


def test_the_readme_table_names_every_code_with_its_meaning() -> None:
    codes = readme_codes()
    assert set(codes) == {int(code) for code in Exit}
    for code in Exit:
        assert MEANINGS[code].startswith(codes[int(code)]), (code, codes[int(code)])


def test_the_help_table_lists_every_code_once() -> None:
    listed = [int(line.split()[0]) for line in table().splitlines()]
    assert listed == sorted(listed) == [int(code) for code in Exit]
