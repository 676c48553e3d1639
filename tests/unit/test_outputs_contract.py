"""Producer and consumers of the outputs contract cannot drift: the local and cloud programs
export exactly what stacks/contract.py declares (with its secrecy), smoke parses what they
export, and the docs list every output."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from stacks.config import PROJECT_ROOT
from stacks.contract import BY_NAME, OUTPUTS, StackOutputs, Target, exported_by
from tests.unit.cloud_program import all_registered, cloud_config, record_options, start_mocks
from tests.unit.local_program import RecordingMocks


def _resolved(contract: dict[str, pulumi.Output[Any]], done: pulumi.Output[Any]) -> Any:
    names = sorted(contract)
    values = [contract[n] for n in names]
    flags = [pulumi.Output.from_input(contract[n].is_secret()) for n in names]
    return pulumi.Output.all(done, *values, *flags).apply(
        lambda got: (names, got[1 : 1 + len(names)], got[1 + len(names) :])
    )


WATCH_OUTPUTS = {"watch_log", "watch_metrics_url"}  # only with mentora:watch


def _check(
    target: Target, names: list[str], values: list[Any], flags: list[bool], absent: set[str]
) -> None:
    assert set(names) == {s.name for s in OUTPUTS if target in s.targets} - absent
    assert set(exported_by(target)) <= set(names)
    assert dict(zip(names, flags, strict=True)) == {n: BY_NAME[n].secret for n in names}
    # The consumer side: smoke's loader accepts exactly what the program exports.
    parsed = StackOutputs.from_json(dict(zip(names, values, strict=True)), "mock", "s")
    assert parsed.target is target


@pytest.mark.parametrize("watch", ["false", "true"])
@pulumi.runtime.test
def test_the_local_program_exports_exactly_the_contract(mocks: RecordingMocks, watch: str) -> Any:
    from stacks.config import parse_stack_config
    from stacks.local import build_local

    contract = build_local(parse_stack_config("local", {"target": "local", "watch": watch}))
    absent = {"smoke_env"} | (set() if watch == "true" else WATCH_OUTPUTS)
    return _resolved(contract, pulumi.Output.from_input(None)).apply(
        lambda r: _check(Target.LOCAL, *r, absent=absent)
    )


@pulumi.runtime.test
def test_a_local_review_program_exports_exactly_the_contract(mocks: RecordingMocks) -> Any:
    from stacks.config import parse_stack_config
    from stacks.local import build_local

    raw = {"target": "local", "baseStack": "local", "backups": "false"}
    contract = build_local(parse_stack_config("pr-5", raw))
    absent = {"review_base", "backup"} | WATCH_OUTPUTS  # no servers of its own to share
    return _resolved(contract, pulumi.Output.from_input(None)).apply(
        lambda r: _check(Target.LOCAL, *r, absent=absent)
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pulumi.runtime.test
def test_the_cloud_program_exports_exactly_the_contract(stack: str) -> Any:
    mocks = start_mocks(stack)
    record_options(mocks)
    from stacks.cloud import build_cloud

    contract = build_cloud(cloud_config(stack))
    return _resolved(contract, all_registered(mocks)).apply(
        lambda r: _check(Target.CLOUD, *r, absent=set())
    )


@pulumi.runtime.test
def test_the_cloud_review_program_exports_exactly_the_contract() -> Any:
    # A review stack (pr-<N>, base dev) is smoked like any other stack: same shape as dev's.
    from stacks.review_cloud import build_review_cloud
    from tests.unit.review_program import review_config, start_review_mocks

    mocks = start_review_mocks()
    record_options(mocks)
    contract = build_review_cloud(review_config())
    return _resolved(contract, all_registered(mocks)).apply(
        lambda r: _check(Target.CLOUD, *r, absent=set())
    )


def test_the_docs_list_every_output() -> None:
    text = (PROJECT_ROOT / "docs" / "architecture.md").read_text()
    missing = [s.name for s in OUTPUTS if f"`{s.name}`" not in text]
    assert not missing, f"docs/architecture.md does not describe {missing}"


def test_a_stack_that_exports_an_unknown_or_too_few_outputs_is_a_program_error(
    mocks: RecordingMocks,
) -> None:
    from types import SimpleNamespace

    from stacks.outputs import export_contract

    parts = {
        "database": SimpleNamespace(url="postgresql://x"),
        "cache": SimpleNamespace(url="redis://x"),
        "storage": SimpleNamespace(bucket_name="b", endpoint="", region="r"),
        "secrets": SimpleNamespace(env={}, fingerprint="f"),
        "deploy": SimpleNamespace(app_url="http://x"),
    }
    with pytest.raises(pulumi.RunError, match=r"missing \['database_server_urn', 'env_file'\]"):
        export_contract(Target.LOCAL, **parts)  # type: ignore[arg-type]
    with pytest.raises(pulumi.RunError, match=r"unknown \['env_file'\]"):
        export_contract(Target.CLOUD, **parts, extra={"env_file": "x"})  # type: ignore[arg-type]
