"""App checks against the deployed app's contract (docs/app-contract.md)."""

from __future__ import annotations

import pytest

from smoke.outputs import StackOutputs
from smoke.report import Measure


def test_health_endpoint(outputs: StackOutputs, measure: Measure, timeout_s: float) -> None:
    if not outputs.app_url:
        pytest.skip(f"stack '{outputs.stack}' has no app_url output: it deploys no app yet")
    import httpx

    with measure.timed(outputs.app_url):
        response = httpx.get(f"{outputs.app_url}/api/health", timeout=timeout_s)
    assert response.status_code == 200, f"app: /api/health answered {response.status_code}"
    assert response.json()["status"] == "healthy"
