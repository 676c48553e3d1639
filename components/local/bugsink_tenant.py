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

from components.local.bugsink_api import Tracker
from components.local.errors import LocalServerError

SERVICE = "errors"
REPLACE_KEYS = ("team", "name")
"""A new base Bugsink address (its port moved, its projects with it) is an update: the
project is found there again by name; the old address answers no delete."""
SECRET_OUTPUTS = ("token", "admin_password", "dsn")


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
