"""`AppLogin`: the credential the app logs in with, kept in the stack's state so that `rotate`
can replace it there without a provider resource taking it back on the next refresh.

It starts as the provider's own (Upstash's `default` user and password) and keeps whatever the
state names after that: a rotation (rotation/cloud_cache.py) writes a new ACL user into this
resource's outputs, and `up` neither diffs nor refreshes it back. Only a new `scope` (the
database it belongs to was replaced) starts it again from the provider's credential, since the
old user does not exist on a new database.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

SECRET_OUTPUTS = ("password", "rest_token")


class AppLoginProvider(ResourceProvider):
    """Keeps the login it was created with, or the one a rotation wrote, until its scope moves."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=uuid.uuid4().hex, outs=dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = olds.get("scope") != news.get("scope")
        return DiffResult(
            changes=moved, replaces=["scope"] if moved else [], delete_before_replace=True
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=props)  # nothing to ask: the state is the record


class AppLogin(Resource):
    """The app's user, password and REST token on one database (`password`, `rest_token`:
    secret)."""

    user: pulumi.Output[str]
    password: pulumi.Output[str]
    rest_token: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        scope: pulumi.Input[str],
        user: pulumi.Input[str],
        password: pulumi.Input[str],
        rest_token: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        super().__init__(
            AppLoginProvider(),
            resource_name,
            {
                "scope": scope,
                "user": user,
                "password": pulumi.Output.secret(password),
                "rest_token": pulumi.Output.secret(rest_token),
            },
            pulumi.ResourceOptions.merge(opts, secret),
        )
