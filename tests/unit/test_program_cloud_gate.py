"""The cloud program's half of the gate (issue 20, items 1 and 8): nothing it declares puts a
deployment on the production domains; the gate promotes after smoke.

Sources (pulumiverse_vercel 5.21.1, installed in .venv):
- `Project(auto_assign_custom_domains=...)`: "Automatically assign custom production domains
  after each Production deployment via merge to the production branch or Vercel CLI deploy with
  --prod. Defaults to `true`" (project.py). Off, a production deployment (ours or a git push's)
  is staged: Vercel's "Promote a staged production build" (vercel.com/docs/deployments/
  promoting-a-deployment) then serves it, through `POST /v10/projects/{projectId}/promote/
  {deploymentId}` (gate/promote.py).
- `Deployment(ref=...)`: "The branch or commit hash that should be deployed" (deployment.py):
  with `mentora:appCommit` set, the commit dev's gate passed is the one built.
- `Project(vercel_authentication={"deployment_type": ...})`: "When omitted on creation, inherits
  the team default (Standard Protection ...)"; Vercel's Standard Protection "protects all domains
  except Production Custom Domains" (vercel.com/docs/deployment-protection), so smoke could not
  reach a staged deployment's own URL. `only_preview_deployments` leaves production deployments
  (staged ones included) reachable and keeps branch previews behind Vercel Authentication.
- `ProjectEnvironmentVariable`: replaced under create-before-delete it fails with
  `ENV_ALREADY_EXISTS` (pulumiverse/pulumi-vercel#118): `delete_before_replace`.
"""

from __future__ import annotations

from typing import Any

import pulumi

from tests.unit.cloud_program import CloudMocks, cloud_config, options_of
from tests.unit.test_program_cloud import ENV_VAR, by_name, run_program

DEPLOYMENT = "vercel:index/deployment:Deployment"
PROJECT = "vercel:index/project:Project"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pulumi.runtime.test
def test_no_deployment_reaches_the_production_domains_by_itself() -> Any:
    def check(mocks: CloudMocks, outputs: dict[str, Any]) -> None:
        (project,) = [d for d in mocks.declared if d.typ == PROJECT]
        assert project.inputs["autoAssignCustomDomains"] is False
        assert project.inputs["vercelAuthentication"] == {
            "deploymentType": "only_preview_deployments"
        }
        # Smoke reaches the deployment's own URL, never the production origin.
        (deployment,) = [d for d in mocks.declared if d.typ == DEPLOYMENT]
        assert outputs["app_url"] == f"https://{deployment.name}.vercel.app"
        assert outputs["production_url"] == "https://mentora.app"
        assert outputs["vercel_deployment_id"] == f"{deployment.name}-id"
        assert outputs["vercel_project_id"] == f"{project.name}-id"

    return run_program("prod", check)


@pulumi.runtime.test
def test_the_deployment_builds_the_configured_app_commit() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        (deployment,) = [d for d in mocks.declared if d.typ == DEPLOYMENT]
        assert deployment.inputs["ref"] == COMMIT
        assert deployment.inputs["meta"]["mentora_app_commit"] == COMMIT

    return run_program("prod", check, appCommit=COMMIT)


def test_an_app_commit_must_be_a_full_sha() -> None:
    import pytest

    from stacks.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        cloud_config("dev", appCommit="main")
    assert "mentora:appCommit" in str(caught.value) and "40-character" in str(caught.value)


@pulumi.runtime.test
def test_variables_are_deleted_before_they_are_replaced() -> Any:
    def check(mocks: CloudMocks, _: dict[str, Any]) -> None:
        names = [d.name for d in mocks.declared if d.typ == ENV_VAR]
        assert names
        for name in names:
            options, _props = options_of(mocks, name)
            assert options.delete_before_replace is True, name
        assert by_name(mocks)  # the program ran

    return run_program("dev", check)
