"""Supabase Branching through the Management API: the calls a review stack's database needs.

Endpoints, as the OpenAPI spec in supabase/cli (`packages/api/src/generated/openapi.json`)
declares them:

- ``POST /v1/projects/{ref}/branches`` CreateBranchBody {branch_name (required), git_branch,
  persistent, with_data, ...} -> 201 BranchResponse {id, name, project_ref, parent_project_ref,
  status, ...} (`project_ref` is the branch's own project ref)
- ``GET /v1/projects/{ref}/branches/{name}`` -> BranchResponse; `status` is one of
  CREATING_PROJECT, RUNNING_MIGRATIONS, MIGRATIONS_PASSED, MIGRATIONS_FAILED,
  FUNCTIONS_DEPLOYED, FUNCTIONS_FAILED
- ``GET /v1/branches/{branch_id_or_ref}`` -> BranchDetailResponse {ref, status, db_host,
  db_port, db_user, db_pass, jwt_secret, ...}: the branch's connection config
- ``DELETE /v1/branches/{branch_id_or_ref}`` -> {message: "ok"}
- ``GET /v1/projects/{ref}/actions`` -> [ActionRunResponse {id, run_steps: [{name: clone | pull
  | health | configure | migrate | seed | deploy, status}], created_at}] and
  ``GET /v1/projects/{ref}/actions/{run_id}/logs`` -> text/plain: the branch's runs, whose
  migrate step runs the Supabase CLI, which prints ``Applying migration <file>...`` before each
  migration (supabase/cli `apps/cli-go/pkg/migration/apply.go`): the last one printed is the one
  that failed.

>>> with SupabaseBranchClient(token) as api:  # doctest: +SKIP
...     branch = api.create_branch("parentrefparentref00", "pr-42", git_branch="feat/x")
...     api.wait_migrated("parentrefparentref00", "pr-42", deadline_s=900)["status"]
'MIGRATIONS_PASSED'
"""

from __future__ import annotations

import logging
import re
from typing import Any

from components.cloud.errors import SupabaseBranchError, SupabaseError
from components.cloud.supabase_api import SupabaseClient

PASSED = frozenset({"MIGRATIONS_PASSED", "FUNCTIONS_DEPLOYED"})
FAILED = "MIGRATIONS_FAILED"
# FUNCTIONS_FAILED comes after the migrations passed: the database is usable (no Edge Functions
# are part of this backend), so it counts as migrated.
USABLE = PASSED | {"FUNCTIONS_FAILED"}
_APPLYING = re.compile(r"Applying migration (\S+?\.sql)")
_ERROR = re.compile(r"^(?:ERROR|error)[: ].*$", re.MULTILINE)

log = logging.getLogger(__name__)


def failed_migration(logs: str) -> str | None:
    """The migration file the Supabase CLI was applying last in `logs` (the one that failed).

    >>> failed_migration("Applying migration 1_a.sql...\\nApplying migration 2_b.sql...\\nERROR")
    '2_b.sql'
    """
    found = _APPLYING.findall(logs)
    return found[-1] if found else None


class SupabaseBranchClient(SupabaseClient):
    """The Branching calls, on top of `SupabaseClient` (same token, timeouts, retries)."""

    def create_branch(self, parent_ref: str, name: str, *, git_branch: str) -> dict[str, Any]:
        """Start creating the preview branch `name`; its BranchResponse (see `wait_migrated`).

        Not idempotent: retried only when the request cannot have reached the API."""
        body = {"branch_name": name, "git_branch": git_branch, "persistent": False}
        created = self.request(
            "POST", f"/v1/projects/{parent_ref}/branches", body=body, idempotent=False
        )
        if not isinstance(created, dict) or not created.get("project_ref"):
            raise SupabaseError(
                f"supabase: branch {name} of project {parent_ref} was created but the answer "
                "has no project_ref; delete it in the dashboard (Branches) and run `pulumi up` "
                "again"
            )
        return created

    def get_branch(self, parent_ref: str, name: str) -> dict[str, Any] | None:
        """The branch's BranchResponse, or None when the project has no branch `name` (404)."""
        found = self.request("GET", f"/v1/projects/{parent_ref}/branches/{name}", missing_ok=True)
        return dict(found) if isinstance(found, dict) else None

    def branch_config(self, branch_ref: str) -> dict[str, Any] | None:
        """The branch's connection config (BranchDetailResponse), or None when it is gone."""
        found = self.request("GET", f"/v1/branches/{branch_ref}", missing_ok=True)
        return dict(found) if isinstance(found, dict) else None

    def delete_branch(self, branch_ref: str) -> bool:
        """Delete the branch (its database too); False when it was already gone."""
        return self.request("DELETE", f"/v1/branches/{branch_ref}", missing_ok=True) is not None

    def wait_migrated(
        self, parent_ref: str, name: str, deadline_s: float, poll_s: float = 10.0
    ) -> dict[str, Any]:
        """Poll until the branch's migrations passed; `SupabaseBranchError` naming the failed
        migration on MIGRATIONS_FAILED, or saying the deadline passed."""
        start = self._clock()
        while True:
            branch = self.get_branch(parent_ref, name)
            status = "missing (HTTP 404)" if branch is None else str(branch.get("status"))
            if branch is not None and status in USABLE:
                return branch
            if branch is not None and status == FAILED:
                raise self.migrations_failed(str(branch.get("project_ref")), name)
            elapsed = self._clock() - start
            if elapsed + poll_s > deadline_s:
                raise SupabaseBranchError(
                    name,
                    status,
                    f"its migrations had not passed within {deadline_s:.0f}s; see the branch "
                    "in the dashboard (Branches), then run `pulumi up` again",
                )
            log.info("supabase: branch %s is %s after %.0fs; waiting", name, status, elapsed)
            self._sleep(poll_s)

    def migrations_failed(self, branch_ref: str, name: str) -> SupabaseBranchError:
        """The error for a MIGRATIONS_FAILED branch, naming the migration its latest run's logs
        show being applied last (and the log's error line when there is one)."""
        migration, detail = None, ""
        try:
            runs = self.request("GET", f"/v1/projects/{branch_ref}/actions")
            latest = max(
                (r for r in runs if isinstance(r, dict)) if isinstance(runs, list) else [],
                key=lambda run: str(run.get("created_at") or ""),
                default=None,
            )
            if latest is not None:
                path = f"/v1/projects/{branch_ref}/actions/{latest['id']}/logs"
                logs = str(self.request("GET", path, text=True))
                migration = failed_migration(logs)
                errors = _ERROR.findall(logs)
                detail = f" ({errors[-1].strip()[:200]})" if errors else ""
        except SupabaseError as exc:  # the failure is what matters; the logs are a bonus
            detail = f" (its run logs could not be read: {exc})"
        which = f"migration {migration} failed" if migration else "a migration failed"
        reason = (
            f"{which}{detail}; fix it in supabase/migrations and push: the next `review up` "
            "recreates the branch"
        )
        return SupabaseBranchError(name, FAILED, reason, migration)
