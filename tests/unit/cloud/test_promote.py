"""Promotion after smoke and re-promotion of the last-known-good deployment (issue 20, item 1),
against Vercel's published REST API:

- `POST /v10/projects/{projectId}/promote/{deploymentId}` ("Point production traffic to a given
  deployment ... does NOT rebuild the deployment"), query `teamId` or `slug`, bearer token,
  answers 201 or 202 (promotion is asynchronous), 409 on a conflict:
  https://vercel.com/docs/rest-api/projects/point-production-traffic-to-a-given-deployment
- `GET /v2/deployments/{id}/aliases` -> `{"aliases": [{"alias": "<host>", ...}]}`, query
  `teamId`/`slug`: https://vercel.com/docs/rest-api/aliases/list-deployment-aliases
- `GET /v13/deployments/{idOrUrl}?withGitRepoInfo=true`: "the response includes the
  `gitSource` object with the commit SHA" (github: `{"type": "github", "ref", "sha", ...}`):
  https://vercel.com/docs/rest-api/deployments/get-a-deployment-by-id-or-url
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from gate import promote

TOKEN = "vercel-token-not-logged"
DOMAINS = ("mentora.app", "www.mentora.app")


class FakeVercel:
    """Vercel's API: a promote makes the domains alias the deployment after `lag` reads."""

    def __init__(self, log: list[str], promote_status: int = 202, lag: int = 1) -> None:
        self.log, self.promote_status, self.lag = log, promote_status, lag
        self.requests: list[httpx.Request] = []
        self.served: dict[str, str] = {}  # domain -> deployment id
        self.pending: tuple[str, int] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        path = request.url.path
        if request.method == "POST" and path.startswith("/v10/projects/"):
            _, _, _, project, verb, deployment = path.split("/")
            assert (project, verb) == ("prj_1", "promote")
            self.log.append(f"promote {deployment}")
            if self.promote_status in (201, 202):
                self.pending = (deployment, self.lag)
            return httpx.Response(self.promote_status, json={})
        if request.method == "GET" and path.startswith("/v2/deployments/"):
            deployment = path.split("/")[3]
            if self.pending:
                target, left = self.pending
                if left <= 0:
                    self.served = dict.fromkeys(DOMAINS, target)
                    self.pending = None
                else:
                    self.pending = (target, left - 1)
            aliases = [
                {"alias": d, "uid": d} for d, dep in self.served.items() if dep == deployment
            ]
            aliases.append({"alias": f"{deployment}.vercel.app", "uid": "own"})
            return httpx.Response(200, json={"aliases": aliases})
        if request.method == "GET" and path.startswith("/v13/deployments/"):
            assert request.url.params["withGitRepoInfo"] == "true"
            source = {"type": "github", "ref": "develop", "sha": "a" * 40, "repoId": 1}
            return httpx.Response(200, json={"id": path.split("/")[3], "gitSource": source})
        return httpx.Response(404, json={"error": {"code": "not_found"}})


def api_for(fake: FakeVercel, team: str = "") -> promote.VercelApi:
    client = httpx.Client(transport=httpx.MockTransport(fake), base_url=promote.VERCEL_API)
    return promote.VercelApi(TOKEN, team, client)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_promote_posts_to_the_documented_path_and_waits_for_the_domains() -> None:
    fake = FakeVercel([], lag=2)
    clock = Clock()
    release = promote.Release("prj_1", "dpl_new", DOMAINS)
    promote.promote(api_for(fake, "team_abc"), release, 30, clock=clock, sleep=clock.sleep)
    first = fake.requests[0]
    assert first.method == "POST"
    assert first.url.path == "/v10/projects/prj_1/promote/dpl_new"
    assert dict(first.url.params) == {"teamId": "team_abc"}
    reads = [r for r in fake.requests if r.method == "GET"]
    assert {r.url.path for r in reads} == {"/v2/deployments/dpl_new/aliases"}
    assert len(reads) == 3 and fake.served == dict.fromkeys(DOMAINS, "dpl_new")


def test_a_team_slug_goes_as_slug() -> None:
    fake = FakeVercel([], lag=0)
    promote.promote(api_for(fake, "mentora"), promote.Release("prj_1", "dpl_a", DOMAINS), 5)
    assert dict(fake.requests[0].url.params) == {"slug": "mentora"}


@pytest.mark.parametrize("status", [400, 401, 403, 409])
def test_a_refused_promotion_names_the_status_and_never_the_token(status: int) -> None:
    fake = FakeVercel([], promote_status=status)
    with pytest.raises(promote.PromoteError) as caught:
        promote.promote(api_for(fake), promote.Release("prj_1", "dpl_x", DOMAINS), 5)
    message = str(caught.value)
    assert f"answered {status}" in message and "dpl_x" in message
    assert TOKEN not in message


def test_domains_that_never_move_fail_within_the_deadline() -> None:
    fake = FakeVercel([], lag=10_000)
    clock = Clock()
    with pytest.raises(promote.PromoteError) as caught:
        promote.promote(
            api_for(fake), promote.Release("prj_1", "dpl_y", DOMAINS), 20, clock, clock.sleep
        )
    assert "within 20s" in str(caught.value) and "mentora.app" in str(caught.value)
    assert clock.now <= 20 + promote.POLL_S


def test_a_release_without_domains_is_promoted_without_waiting() -> None:
    fake = FakeVercel([], lag=10_000)
    promote.promote(api_for(fake), promote.Release("prj_1", "dpl_z", ()), 5)
    assert [r.method for r in fake.requests] == ["POST"]


def fake_api(fake: FakeVercel) -> Any:
    return api_for(fake)


FAKE_PULUMI = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
  "stack output") echo '{"vercel_project_id": "prj_1", "vercel_deployment_id": "dpl_9",
    "env": "[secret]"}' ;;
  "config get") echo "$FAKE_TOKEN" ;;
  *) exit 3 ;;
esac
"""


def test_load_reads_the_ids_from_the_outputs_and_the_token_from_the_secret_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `pulumi stack output --json` prints secret outputs as "[secret]" and `pulumi config get`
    # prints a secret's plain value (pulumi.com/docs/iac/cli/commands/pulumi_config_get/):
    # the token travels through a pipe only, never a command line or the log.
    root = Path(__file__).resolve().parents[3]
    (tmp_path / "Pulumi.prod.yaml").write_text((root / "Pulumi.prod.yaml").read_text())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "log"))
    monkeypatch.setenv("FAKE_TOKEN", TOKEN)
    loaded = promote.load("prod", tmp_path)
    assert loaded is not None
    api, release = loaded
    assert release == promote.Release("prj_1", "dpl_9", DOMAINS)
    assert api.token == TOKEN and TOKEN not in repr(api)
    calls = (tmp_path / "log").read_text().splitlines()
    assert calls == [
        "stack output --json --stack prod",
        "config get mentora:vercelApiToken --stack prod",
    ]
    (tmp_path / "Pulumi.local.yaml").write_text("config:\n  mentora:target: local\n")
    assert promote.load("local", tmp_path) is None


def test_the_commit_a_deployment_built_is_read_from_its_git_source() -> None:
    fake = FakeVercel([])
    assert api_for(fake, "team_abc").commit_of("dpl_new") == "a" * 40
    (request,) = fake.requests
    assert request.url.path == "/v13/deployments/dpl_new"
    assert dict(request.url.params) == {"withGitRepoInfo": "true", "teamId": "team_abc"}


def test_a_cloud_review_stack_is_never_promoted_to_devs_domains(tmp_path: Path) -> None:
    # A cloud review stack (pr-<N>) deploys a preview of dev's Vercel project, with dev's
    # settings copied: promoting it would serve the pull request on dev's production domains.
    (tmp_path / "Pulumi.pr-42.yaml").write_text(
        "config:\n  mentora:target: cloud\n  mentora:domains: dev.mentora.app\n"
    )
    facts: dict[str, str] = {}
    assert promote.after_green_smoke("pr-42", tmp_path, facts) is None
    assert facts == {}  # nothing promoted, no last-known-good recorded
    with pytest.raises(promote.PromoteError, match="review stack"):
        promote.repromote_lkg("pr-42", tmp_path, facts)
