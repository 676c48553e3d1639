"""The drivers are imported before any check's thread starts (issue 19: one flaky smoke failure
in ~40 runs came from first imports of one package in several threads at once, CPython
gh-106905): loading the outputs returns only once the preload thread is done."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from smoke import plugin
from smoke.redact import Redactor
from tests.unit.smoke.helpers import dead_outputs

ROOT = Path(__file__).resolve().parents[3]


class Options:
    """What `load_outputs` reads of pytest's config."""

    def __init__(self, outputs_file: Path) -> None:
        self.values: dict[str, Any] = {"--stack": None, "--outputs-file": str(outputs_file)}

    def getoption(self, name: str) -> Any:
        return self.values[name]


def test_loading_the_outputs_waits_for_the_drivers_imports(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dead_outputs(1, 2, 3)))
    plugin.load_outputs(Options(outputs), Redactor())  # type: ignore[arg-type]
    assert not [t for t in threading.enumerate() if t.name == "smoke-preload"]


def test_the_check_modules_are_loaded_with_the_drivers_while_pulumi_answers() -> None:
    """Collection imports `smoke.checks.<service>`; preloaded, it costs nothing after the
    outputs arrive (the `--stack` run's first check came ~0.3 s sooner, docs/benchmarks.md)."""
    probe = (
        "import sys\n"
        "from smoke import plugin\n"
        "names = [f'smoke.checks.{n}' for n in plugin.SERVICES]\n"
        "before = [n for n in names if n in sys.modules]\n"
        "plugin._preload_drivers()\n"
        "print(before, [n for n in names if n not in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] []"
