"""`Tracker`: a Bugsink's API (`/api/canonical/0`) and, where the API has no call, its web
console, as a stack's API token and admin see them. The local error tracker makes its own team
and project with it (error_tracker.py); a review stack makes and deletes its project in its base
stack's Bugsink (bugsink_tenant.py).
"""

from __future__ import annotations

from typing import Any

from components.local.errors import LocalServerError

SERVICE = "errors"
API = "/api/canonical/0"
TIMEOUT_S = 10.0


class Tracker:
    """A Bugsink, as a stack's API token and its admin see it."""

    def __init__(self, url: str, token: str, admin_password: str = "") -> None:
        self.url, self.token, self.admin_password = url.rstrip("/"), token, admin_password

    def api(self, method: str, path: str, **kw: Any) -> Any:
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

    def create_team(self, name: str) -> str:
        """A new team called `name`; its id."""
        team = self.api("POST", "/teams/", json={"name": name})
        if team.status_code != 201:
            raise LocalServerError(
                f"errors: Bugsink refused the team ({team.status_code}): {team.text[:200]}"
            )
        return str(team.json()["id"])

    def create_project(self, team_id: str, name: str) -> str:
        """A new project called `name` in team `team_id`; its id."""
        made = self.api("POST", "/projects/", json={"team": team_id, "name": name})
        if made.status_code != 201:
            raise LocalServerError(
                f"errors: Bugsink refused project {name} ({made.status_code}): {made.text[:200]}",
                service=SERVICE,
            )
        return str(made.json()["id"])

    def dsn(self, project_id: str, after: str = "", hint: str = "") -> str:
        """The project's DSN; LocalServerError (`after` the what, `hint` the fix) without one."""
        detail = self.api("GET", f"/projects/{project_id}/")
        dsn = detail.json().get("dsn") if detail.status_code == 200 else None
        if not dsn:
            raise LocalServerError(
                f"errors: Bugsink project {project_id} has no DSN{after} ({detail.status_code})"
                + (f"; {hint}" if hint else ""),
                service=SERVICE,
            )
        return str(dsn)

    def make(self, team: str, name: str) -> tuple[str, str]:
        """The project (kept when it exists: a retried create) in the existing team `team`;
        (id, DSN)."""
        teams = [t for t in self._listed("/teams/") if t.get("name") == team]
        if not teams:
            raise LocalServerError(
                f"errors: the base stack's Bugsink has no team {team!r} at {self.url}; bring the "
                "base stack up (make up)",
                service=SERVICE,
            )
        project_id = self.project_id(name) or self.create_project(str(teams[0]["id"]), name)
        return project_id, self.dsn(project_id)

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
