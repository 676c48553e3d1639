"""pytest's view of the checks: one `ServiceFile` collector per check module and one
`CheckItem` per check, pytest's documented pattern for tests it does not run itself
(doc/en/example/nonpython). The engine runs the selected checks first (smoke/plugin.py's
`pytest_runtestloop`); each item's `runtest` then reports its check's `CheckResult`: the
captured output and logs as the report's sections, the facts as `user_properties`, a failure
as its message. `-k`, `-m`, `-x`, `--lf`, `--co`, JUnit, json-report and pytest-html see
ordinary items.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from smoke.checks import SERVICES, CheckSpec, declared
from smoke.report import CheckResult

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
results_key = pytest.StashKey[dict[str, CheckResult]]()


class CheckFailure(Exception):
    """What a failed check's item raises: its result, shown by `repr_failure`."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


class ServiceFile(pytest.File):
    """A check module (`smoke/checks/<service>.py`): one item per declared check."""

    def collect(self) -> Iterable[CheckItem]:
        module = importlib.import_module(f"smoke.checks.{self.path.stem}")
        for spec in declared(module).checks:
            item = CheckItem.from_parent(self, name=spec.name, spec=spec)
            if spec.writes:
                item.add_marker(pytest.mark.writes)
            yield item


class CheckItem(pytest.Item):
    """One check, reported from the result the engine returned for it."""

    def __init__(self, *, spec: CheckSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec

    def runtest(self) -> None:
        result = self.session.stash.get(results_key, {}).get(self.spec.id)
        if result is None:
            raise CheckFailure(
                CheckResult(self.spec.id, self.spec.service, self.spec.name, "failed",
                            message=f"{self.spec.id}: not run (the engine returned no result)")
            )  # fmt: skip
        for key in ("stdout", "stderr", "log"):
            if getattr(result, key):
                self.add_report_section("call", key, getattr(result, key))
        self.user_properties.extend(properties(result))
        if result.outcome == "skipped":
            pytest.skip(result.message or "skipped")
        if result.failed:
            raise CheckFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CheckFailure):
            return excinfo.value.result.message or excinfo.value.result.outcome
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.spec.service}::{self.spec.name}"


def properties(result: CheckResult) -> list[tuple[str, str]]:
    """`(name, value)` pairs for JUnit `<property>` elements."""
    props = [
        ("service", result.service),
        ("target", result.target),
        ("latency_ms", f"{result.latency_ms or 0.0:.1f}"),
        ("attempts", str(result.attempts)),
    ]
    if result.error_class:
        props.append(("error_class", result.error_class))
    return props + list(result.properties)


def collect_file(file_path: Path, parent: pytest.Collector) -> ServiceFile | None:
    """A `ServiceFile` for a check module of this smoke/ directory, else None."""
    if file_path.parent == CHECKS_DIR and file_path.stem in SERVICES:
        return ServiceFile.from_parent(parent, path=file_path)
    return None
