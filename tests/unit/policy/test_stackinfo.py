"""The stack name comes from policy config, the engine's ConfigureStack, then PULUMI_STACK."""

from __future__ import annotations

import pytest
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as sdk

from policy.stackinfo import install_stack_hook, is_cloud, is_prod, resolve_stack


def test_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_stack({}) == ""
    monkeypatch.setenv("PULUMI_STACK", "dev")
    assert resolve_stack(None) == "dev"

    assert install_stack_hook()
    assert install_stack_hook()  # idempotent
    servicer = sdk._PolicyAnalyzerServicer("p", "0.0.1", [object()], sdk.EnforcementLevel.MANDATORY)  # type: ignore[list-item]
    request = analyzer_pb2.AnalyzerStackConfigureRequest(stack="prod", project="mentora-infra")
    servicer.ConfigureStack(request, None)
    assert resolve_stack({}) == "prod"
    assert resolve_stack({"stack": "org/mentora-infra/local"}) == "local"


def test_prod_and_cloud_classification() -> None:
    assert is_prod("prod") and is_prod("")
    assert not is_prod("dev") and not is_prod("local")
    assert is_cloud("dev") and is_cloud("prod") and is_cloud("")
    assert not is_cloud("local")
