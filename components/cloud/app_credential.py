"""`AppCredential`: a credential the app holds, kept in the stack's state so that `rotate` can
replace it there without a provider resource taking it back on the next refresh.

It starts as the provider's own (Upstash's `default` user and password, Supabase's legacy
service_role key) and keeps whatever the state names after that: a rotation
(rotation/cloud_cache.py, rotation/cloud_service_key.py) writes the new credential into this
resource's outputs, and `up` neither diffs nor refreshes it back. A new `scope` (the database or
project it belongs to was replaced) starts it again from the provider's credential, since the
rotated one does not exist there; while it is still the provider's own (never rotated), a new
one from the provider (reset in its console) is followed, as before.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

SECRET_OUTPUTS = ("secret", "extra")


class AppCredentialProvider(ResourceProvider):
    """Keeps the credential it was created with, or the one a rotation wrote, until its scope
    moves."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=uuid.uuid4().hex, outs=dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = olds.get("scope") != news.get("scope")
        # Still the provider's own credential (never rotated), and the provider has a new one
        # (reset in its console): follow it, as the app did before this resource existed.
        followed = olds.get("name") == news.get("name") and any(
            olds.get(k) != news.get(k) for k in SECRET_OUTPUTS
        )
        return DiffResult(
            changes=moved or followed,
            replaces=["scope"] if moved else [],
            delete_before_replace=True,
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=dict(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=props)  # nothing to ask: the state is the record


class AppCredential(Resource):
    """One credential of the app on one scope: its public `name` (a user, a key's name), its
    `secret` and an `extra` secret that goes with it (a REST token); both secret."""

    name: pulumi.Output[str]
    secret: pulumi.Output[str]
    extra: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        scope: pulumi.Input[str],
        name: pulumi.Input[str],
        secret: pulumi.Input[str],
        extra: pulumi.Input[str] = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secrets = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        super().__init__(
            AppCredentialProvider(),
            resource_name,
            {
                "scope": scope,
                "name": name,
                "secret": pulumi.Output.secret(secret),
                "extra": pulumi.Output.secret(extra),
            },
            pulumi.ResourceOptions.merge(opts, secrets),
        )
