"""`BugsinkProject`: a review stack's project (its own DSN) in the Bugsink its base stack runs.

A local review stack (`mentora:baseStack`) runs no Bugsink of its own (~122 MB idle): the base's
makes it a project in its team, through the API with the base's token. The app gets only the
project's DSN; the token, which reads every project, stays out of the app's env (smoke reads
events with it from the stack's `smoke_env` output, as on the cloud stacks).

Bugsink 2.6's API cannot delete a project (ProjectViewSet allows GET, POST and PATCH only), so
delete goes through its web console as the base's admin, as a person would: the login form, then
the project's settings form with `action=delete` (projects/views.py `project_edit`), both with
Django's CSRF token. tests/integration/local/test_bugsink_tenant.py holds the pinned Bugsink to
that.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

from components.local.errors import LocalServerError

SERVICE = "errors"
API = "/api/canonical/0"
TIMEOUT_S = 10.0
REPLACE_KEYS = ("team", "name")
"""A new base Bugsink address (its port moved, its projects with it) is an update: the
project is found there again by name; the old address answers no delete."""
SECRET_OUTPUTS = ("token", "admin_password", "dsn")


class Tracker:
    """The base's Bugsink, as its API token and its admin see it."""

    def __init__(self, url: str, token: str, admin_password: str = "") -> None:
        self.url, self.token, self.admin_password = url.rstrip("/"), token, admin_password

    def _api(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(
            method, f"{self.url}{API}{path}", headers=headers, timeout=TIMEOUT_S, **kw
        )

    def _listed(self, path: str) -> list[dict[str, Any]]:
        """Every item of a paginated list (Bugsink's cursor pagination: `next` links)."""
        import httpx

        items: list[dict[str, Any]] = []
        url: str | None = f"{self.url}{API}{path}"
        while url:
            page = httpx.get(url, headers={"Authorization": f"Bearer {self.token}"},
                             timeout=TIMEOUT_S)  # fmt: skip
            page.raise_for_status()
            body = page.json()
            items += body.get("results") or []
            url = body.get("next")
        return items

    def project_id(self, name: str) -> str | None:
        """The id of the live project called `name` (None when there is none)."""
        for project in self._listed("/projects/"):
            if project.get("name") == name and not project.get("is_deleted"):
                return str(project["id"])
        return None

    def make(self, team: str, name: str) -> tuple[str, str]:
        """The project (kept when it exists: a retried create) in team `team`; (id, DSN)."""
        teams = [t for t in self._listed("/teams/") if t.get("name") == team]
        if not teams:
            raise LocalServerError(
                f"errors: the base stack's Bugsink has no team {team!r} at {self.url}; bring the "
                "base stack up (make up)",
                service=SERVICE,
            )
        project_id = self.project_id(name)
        if project_id is None:
            made = self._api("POST", "/projects/", json={"team": teams[0]["id"], "name": name})
            if made.status_code != 201:
                raise LocalServerError(
                    f"errors: Bugsink refused project {name} ({made.status_code}): "
                    f"{made.text[:200]}",
                    service=SERVICE,
                )
            project_id = str(made.json()["id"])
        detail = self._api("GET", f"/projects/{project_id}/")
        dsn = detail.json().get("dsn") if detail.status_code == 200 else None
        if not dsn:
            raise LocalServerError(
                f"errors: Bugsink project {project_id} has no DSN ({detail.status_code})",
                service=SERVICE,
            )
        return project_id, str(dsn)

    def delete(self, project_id: str) -> None:
        """Delete the project through the web console, as the admin (no API call can)."""
        import httpx

        from components.local.bugsink_setup import ADMIN_USER

        edit = f"/projects/{project_id}/edit/"
        with httpx.Client(base_url=self.url, timeout=TIMEOUT_S) as console:
            console.get("/accounts/login/")
            login = console.post(
                "/accounts/login/",
                data={"username": ADMIN_USER, "password": self.admin_password,
                      "csrfmiddlewaretoken": console.cookies.get("csrftoken", "")},
                headers={"Referer": f"{self.url}/accounts/login/"},
            )  # fmt: skip
            if login.status_code != 302:
                raise LocalServerError(
                    f"errors: the base stack's Bugsink refused its admin's login "
                    f"({login.status_code}); project {project_id} is left",
                    service=SERVICE,
                )
            console.get(edit)  # the login rotated the CSRF token
            done = console.post(
                edit,
                data={"action": "delete", "csrfmiddlewaretoken": console.cookies.get("csrftoken")},
                headers={"Referer": f"{self.url}{edit}"},
            )
        if done.status_code != 302:
            raise LocalServerError(
                f"errors: Bugsink did not delete project {project_id} ({done.status_code})",
                service=SERVICE,
            )


def _tracker(props: dict[str, Any]) -> Tracker:
    return Tracker(props["url"], props["token"], props.get("admin_password", ""))


class BugsinkProjectProvider(ResourceProvider):
    """Creates, reads and deletes one project in an existing Bugsink."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        import httpx

        try:
            project_id, dsn = _tracker(props).make(props["team"], props["name"])
        except httpx.HTTPError as exc:
            raise LocalServerError(
                f"errors: cannot make project {props['name']} in the base stack's Bugsink at "
                f"{props['url']} ({exc}); bring the base stack up (make up), then run the "
                "review stack's up again",
                service=SERVICE,
            ) from None
        return CreateResult(id_=project_id, outs={**props, "project_id": project_id, "dsn": dsn})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in REPLACE_KEYS if olds.get(key) != news.get(key)]
        moved = [k for k in ("url", "token", "admin_password") if olds.get(k) != news.get(k)]
        return DiffResult(
            changes=bool(replaces or moved), replaces=replaces, delete_before_replace=True
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        from pulumi.dynamic import UpdateResult

        if olds.get("url") != news["url"]:  # moved: its DSN names the new port
            return UpdateResult(outs=self.create(news).outs)
        return UpdateResult(outs={**olds, "token": news["token"],
                                  "admin_password": news["admin_password"]})  # fmt: skip

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        import httpx

        try:
            live = _tracker(props).project_id(props["name"]) == id_
        except httpx.HTTPError:
            return ReadResult(id_=id_, outs=props)  # down: its own stack restarts it
        return ReadResult(id_=id_ if live else "", outs=props if live else {})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _tracker(props).delete(id_)


class BugsinkProject(Resource):
    """One project (its DSN) in the Bugsink at `url`."""

    project_id: pulumi.Output[str]
    dsn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        url: pulumi.Input[str],
        token: pulumi.Input[str],
        admin_password: pulumi.Input[str],
        team: str,
        project: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "url": url,
            "token": pulumi.Output.secret(token),
            "admin_password": pulumi.Output.secret(admin_password),
            "team": team,
            "name": project,
            "project_id": None,
            "dsn": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        super().__init__(
            BugsinkProjectProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret)
        )
