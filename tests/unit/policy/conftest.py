"""Builders for the resources the policy engine hands to the pack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions

from policy.stackinfo import reset_captured_stack


def options(protect: bool = False) -> PolicyResourceOptions:
    """Resource options as the engine reports them."""
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def resource(
    resource_type: str,
    name: str,
    props: Mapping[str, Any],
    *,
    deps: Mapping[str, list[PolicyResource]] | None = None,
) -> PolicyResource:
    """A stack resource like `StackValidationArgs.resources` holds."""
    urn = f"urn:pulumi:prod::mentora-infra::{resource_type}::{name}"
    return PolicyResource(
        resource_type, props, urn, name, options(), None, None, [], dict(deps or {})
    )


@pytest.fixture(autouse=True)
def _isolated_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_STACK", raising=False)
    reset_captured_stack()
