"""Promotion of a cloud stack's deployment to its production domains, after its smoke gate.

A cloud `up` makes a production deployment that no production domain serves (the Vercel project
never auto-assigns them: components/cloud/deploy_target.py); smoke checks the deployment's own
URL; only a green gate promotes it, and its id becomes the stack's last-known-good deployment
(stack tag `mentora:lkg-deployment`). `--on-fail rollback` re-promotes that one: instant, no
rebuild. Around smoke, Inngest Cloud is told where the app's functions are (it runs nothing for
an app never synced): the staged deployment before smoke (the jobs check needs it), the
production URL after the gate, green or not, so Inngest calls what production serves.
Vercel's REST API, as published:

- `POST /v10/projects/{projectId}/promote/{deploymentId}` (query `teamId` or `slug`, bearer
  token): 201/202, the promotion proceeds asynchronously; it does not rebuild
  (vercel.com/docs/rest-api/projects/point-production-traffic-to-a-given-deployment).
- `GET /v2/deployments/{id}/aliases` -> `{"aliases": [{"alias": "<host>"}]}`: the domains
  now serving it (vercel.com/docs/rest-api/aliases/list-deployment-aliases).
- `GET /v13/deployments/{id}?withGitRepoInfo=true` -> `gitSource.sha`: the app commit it built,
  which the deploy workflow hands from dev's gate to prod (mentora:appCommit)
  (vercel.com/docs/rest-api/deployments/get-a-deployment-by-id-or-url).

>>> Release("prj_1", "dpl_2", ("mentora.app",)).deployment_id
'dpl_2'
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml  # type: ignore[import-untyped]

from gate.ledger import Ledger, LedgerError
from gate.runner import console, stack_target
from review.naming import is_review_stack
from smoke.clients import jobs_api

VERCEL_API = "https://api.vercel.com"
LKG_DEPLOYMENT_TAG = "mentora:lkg-deployment"
PROMOTE_WAIT_S = 180.0  # Vercel moves the domains asynchronously; bounded
POLL_S = 2.0
HTTP_TIMEOUT_S = 30.0
SYNC_TIMEOUT_S = 60.0  # the app registers with Inngest while we wait


class PromoteError(Exception):
    """Raised when a deployment cannot be promoted (or re-promoted); the message names the
    deployment, what Vercel answered and the fix, never the token."""


@dataclass(frozen=True)
class Release:
    """What a promotion moves: the project's production domains onto one deployment."""

    project_id: str
    deployment_id: str
    domains: tuple[str, ...]
    app_url: str = ""
    """The deployment's own origin (smoke's `app_url`)."""
    production_url: str = ""
    """The production origin (the domains)."""


@dataclass
class VercelApi:
    """The two Vercel REST calls a promotion needs, with the stack's token and team."""

    token: str = field(repr=False)
    team: str = ""
    client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self.client is None:
            self.client = httpx.Client(base_url=VERCEL_API, timeout=HTTP_TIMEOUT_S)
        return self.client

    def _params(self) -> dict[str, str]:
        # `teamId` takes the id (team_...), `slug` the team's URL slug; neither for a person.
        if not self.team:
            return {}
        return {"teamId": self.team} if self.team.startswith("team_") else {"slug": self.team}

    def _request(
        self, method: str, path: str, params: dict[str, str] | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        query = {**(params or {}), **self._params()}
        try:
            return self._http().request(method, path, params=query, headers=headers)
        except httpx.HTTPError as exc:
            raise PromoteError(
                f"vercel: {method} {path} did not answer ({type(exc).__name__})"
            ) from None

    def promote(self, project_id: str, deployment_id: str) -> None:
        """Ask Vercel to point the production domains at `deployment_id` (no rebuild)."""
        response = self._request("POST", f"/v10/projects/{project_id}/promote/{deployment_id}")
        if response.status_code not in (201, 202):
            raise PromoteError(
                f"vercel: promoting {deployment_id} answered {response.status_code}"
                f"{_said(response)}; check mentora:vercelApiToken (a token of the project's "
                "team) and mentora:vercelTeam, then run the gate again"
            )

    def aliases(self, deployment_id: str) -> set[str]:
        """The host names that serve `deployment_id` now."""
        response = self._request("GET", f"/v2/deployments/{deployment_id}/aliases")
        if response.status_code != 200:
            raise PromoteError(
                f"vercel: listing the aliases of {deployment_id} answered "
                f"{response.status_code}{_said(response)}"
            )
        body = _json(response)
        items = body.get("aliases") if isinstance(body, dict) else None
        return {str(a["alias"]) for a in items or [] if isinstance(a, dict) and a.get("alias")}

    def commit_of(self, deployment_id: str) -> str | None:
        """The git commit `deployment_id` was built from (None when Vercel does not say)."""
        response = self._request(
            "GET", f"/v13/deployments/{deployment_id}", {"withGitRepoInfo": "true"}
        )
        body = _json(response) if response.status_code == 200 else None
        source = body.get("gitSource") if isinstance(body, dict) else None
        sha = source.get("sha") if isinstance(source, dict) else None
        return str(sha) if sha else None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _said(response: httpx.Response) -> str:
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        text = " ".join(str(error[k]) for k in ("code", "message") if error.get(k))
        return f" ({text[:160]})" if text else ""
    return ""


def promote(
    api: VercelApi,
    release: Release,
    deadline_s: float = PROMOTE_WAIT_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Promote `release.deployment_id` and wait until every production domain serves it."""
    api.promote(release.project_id, release.deployment_id)
    if not release.domains:
        return
    end = clock() + deadline_s
    while True:
        missing = sorted(set(release.domains) - api.aliases(release.deployment_id))
        if not missing:
            return
        if clock() >= end:
            raise PromoteError(
                f"vercel: {', '.join(missing)} did not move to {release.deployment_id} within "
                f"{deadline_s:g}s of its promotion; see the project's domains in Vercel, then "
                "run the gate again"
            )
        sleep(POLL_S)


def _pulumi(root: Path, stack: str, *args: str) -> str:
    """The ledger's one way of running the CLI on a stack, its errors as PromoteError."""
    try:
        return Ledger(stack, root).pulumi(*args).strip()
    except LedgerError as exc:
        raise PromoteError(str(exc)) from None


def load(stack: str, root: Path) -> tuple[VercelApi, Release] | None:
    """The API and the release of a cloud stack's current deployment; None for a local stack."""
    if stack_target(stack, root) != "cloud":
        return None
    outputs = json.loads(_pulumi(root, stack, "stack", "output", "--json") or "{}")
    project, deployment = outputs.get("vercel_project_id"), outputs.get("vercel_deployment_id")
    if not project or not deployment:
        raise PromoteError(
            f"{stack}: the stack has no vercel_project_id/vercel_deployment_id output; deploy "
            f"it with this version first: mentora-infra up {stack}"
        )
    config = (yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}).get("config")
    config = config or {}
    domains = tuple(d.strip() for d in str(config.get("mentora:domains", "")).split(",") if d)
    token = _pulumi(root, stack, "config", "get", "mentora:vercelApiToken")
    api = VercelApi(token, str(config.get("mentora:vercelTeam", "") or ""))
    urls = (str(outputs.get("app_url") or ""), str(outputs.get("production_url") or ""))
    return api, Release(str(project), str(deployment), domains, *urls)


def lkg_deployment(stack: str, root: Path) -> str | None:
    """The deployment id the stack's last green gate promoted."""
    tags = json.loads(_pulumi(root, stack, "stack", "tag", "ls", "--json") or "{}")
    return str(tags[LKG_DEPLOYMENT_TAG]) if tags.get(LKG_DEPLOYMENT_TAG) else None


def record_lkg_deployment(stack: str, deployment: str, root: Path) -> None:
    _pulumi(root, stack, "stack", "tag", "set", LKG_DEPLOYMENT_TAG, deployment)


def bypass_headers(stack: str, root: Path) -> dict[str, str]:
    """For a review stack, whose preview sits behind Vercel Authentication, the header that lets
    a request through (its own bypass secret, exported for smoke only); {} for other stacks."""
    if not is_review_stack(stack):
        return {}
    raw = _pulumi(root, stack, "stack", "output", "smoke_env", "--show-secrets", "--json")
    secret = (json.loads(raw or "{}") or {}).get("VERCEL_AUTOMATION_BYPASS_SECRET")
    return {"x-vercel-protection-bypass": str(secret)} if secret else {}


def sync_inngest(url: str, headers: dict[str, str] | None = None) -> None:
    """Sync the app at `url` with Inngest Cloud; JobsError naming the app when refused."""
    if not url:
        raise jobs_api.JobsError("jobs: the stack has no app URL to sync with Inngest")
    with httpx.Client(headers=headers or {}) as client:
        jobs_api.sync_app(client, url, SYNC_TIMEOUT_S)
    console.print(f"inngest: synced {url}/api/inngest")


def before_smoke(stack: str, root: Path) -> str | None:
    """Cloud: sync the staged deployment with Inngest, so the jobs check's event runs; None
    when done (or local), else why not."""
    try:
        loaded = load(stack, root)
        if loaded is not None:
            sync_inngest(loaded[1].app_url, bypass_headers(stack, root))
    except (PromoteError, jobs_api.JobsError) as exc:
        return f"Inngest sync of the staged deployment failed: {exc}"
    return None


def after_failed_gate(stack: str, root: Path) -> None:
    """Cloud: point Inngest back at the production URL (what production still serves); a
    failure is printed, the gate's outcome stays the failure it was."""
    if is_review_stack(stack):  # its preview is all it has: nothing to point back at
        return
    try:
        loaded = load(stack, root)
        if loaded is not None:
            sync_inngest(loaded[1].production_url)
    except (PromoteError, jobs_api.JobsError) as exc:
        console.print(f"[red]inngest: could not sync production back[/]: {exc}")


def after_green_smoke(stack: str, root: Path, facts: dict[str, str]) -> str | None:
    """Promote the smoked deployment of a cloud stack; None when done (or nothing to do), else
    why the promotion failed (the gate then fails: production stays where it was).

    A review stack (pr-<N>) is never promoted: its deployment is a preview of dev's project,
    and promoting it would put a pull request on dev's production domains."""
    if is_review_stack(stack):
        console.print(f"{stack}: a review stack's preview is not promoted")
        return None
    try:
        loaded = load(stack, root)
        if loaded is None:
            return None
        api, release = loaded
        promote(api, release)
        facts["deployment"] = release.deployment_id
        try:
            sync_inngest(release.production_url)
        except jobs_api.JobsError as exc:  # promoted: the staged URL's sync still serves it
            console.print(f"[yellow]inngest: production URL not synced[/]: {exc}")
        commit = api.commit_of(release.deployment_id)
        if commit:
            facts["app_commit"] = commit
        record_lkg_deployment(stack, release.deployment_id, root)
    except PromoteError as exc:
        return f"promotion failed: {exc}"
    console.print(f"[green]promoted[/] {release.deployment_id} to {', '.join(release.domains)}")
    return None


def repromote_lkg(stack: str, root: Path, facts: dict[str, str]) -> str:
    """Point the production domains back at the last-known-good deployment; its id."""
    if is_review_stack(stack):
        raise PromoteError(f"{stack} is a review stack: it has no production to re-promote")
    loaded = load(stack, root)
    if loaded is None:
        raise PromoteError(f"{stack} is not a cloud stack")
    api, release = loaded
    lkg = lkg_deployment(stack, root)
    if not lkg:
        raise PromoteError("no last-known-good deployment to re-promote")
    facts["lkg_deployment"] = lkg
    promote(api, Release(release.project_id, lkg, release.domains))
    return lkg
