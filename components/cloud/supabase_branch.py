"""`SupabaseBranch`: a preview branch of the dev project (Supabase Branching), one per review stack.

A dynamic provider drives `SupabaseBranchClient` (components/cloud/supabase_branch_api.py):

- create: POST the branch, poll (bounded) until its migrations passed; on MIGRATIONS_FAILED the
  error names the failed migration. Then read its connection config (`db_pass`), pooler and API
  keys. A failed create records nothing in Pulumi's state, so the half-made branch is deleted
  again (the error says whether that worked) instead of being left behind.
- diff: `parent_ref`, `branch_name` and `git_branch` replace the branch (a new, empty database:
  fine for a pull request's throwaway copy); `access_token` is updated in place.
- update: re-read the outputs with the new token.
- read (refresh): empty id when the branch is gone (404), else its live outputs.
- delete: DELETE the branch; already gone is fine (`review down` of a half-removed stack).

The provider object is pickled into the state: it holds no client, only numbers and an optional
transport factory (tests). The secret `access_token` only travels in the Authorization header.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.cloud.errors import SupabaseError
from components.cloud.supabase_branch_api import SupabaseBranchClient
from components.cloud.supabase_db import session_url, transaction_url
from components.cloud.supabase_http import TransportFactory

REPLACE_KEYS = ("parent_ref", "branch_name", "git_branch")
INPUT_KEYS = (*REPLACE_KEYS, "access_token")
OUTPUT_KEYS = (
    "ref",
    "branch_id",
    "status",
    "url",
    "anon_key",
    "service_role_key",
    "database_url",
    "migrations_url",
)
SECRET_OUTPUTS = ("anon_key", "service_role_key", "database_url", "migrations_url", "access_token")
WAIT_DEADLINE_S = 900.0  # a branch is a new project plus the replayed migrations
POLL_S = 10.0


def _inputs(props: dict[str, Any]) -> dict[str, str]:
    return {key: str(props.get(key) or "") for key in INPUT_KEYS}


class SupabaseBranchProvider(ResourceProvider):
    """Owns the mapping of Pulumi's lifecycle onto `SupabaseBranchClient` calls; holds no client."""

    def __init__(
        self,
        transport_factory: TransportFactory | None = None,
        *,
        wait_deadline_s: float = WAIT_DEADLINE_S,
        poll_s: float = POLL_S,
    ) -> None:
        super().__init__()
        self.transport_factory = transport_factory
        self.wait_deadline_s, self.poll_s = wait_deadline_s, poll_s

    def _client(self, props: dict[str, Any]) -> SupabaseBranchClient:
        transport = self.transport_factory() if self.transport_factory else None
        return SupabaseBranchClient(str(props.get("access_token") or ""), transport=transport)

    @staticmethod
    def _outputs(api: SupabaseBranchClient, inputs: dict[str, str], branch: dict[str, Any]) -> dict:
        ref = str(branch["project_ref"])
        config = api.branch_config(ref)
        password = str((config or {}).get("db_pass") or "")
        if not password:
            raise SupabaseError(
                f"supabase: branch {inputs['branch_name']} ({ref}) reports no db_pass in "
                f"GET /v1/branches/{ref}; the token may lack access to the branch's database "
                "settings: use a token of an organization owner and run `pulumi up` again"
            )
        pooler, keys = api.pooler(ref), api.api_keys(ref)
        return {
            **inputs,
            "ref": ref,
            "branch_id": str(branch.get("id") or ""),
            "status": str(branch.get("status") or ""),
            "url": f"https://{ref}.supabase.co",
            "anon_key": keys.anon,
            "service_role_key": keys.service_role,
            "database_url": transaction_url(password, pooler),
            "migrations_url": session_url(password, pooler),
        }

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [
            CheckFailure(key, f"supabase: branch {key} must not be empty")
            for key in INPUT_KEYS
            if news.get(key) == ""
        ]
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = _inputs(props)
        parent, name = inputs["parent_ref"], inputs["branch_name"]
        with self._client(inputs) as api:
            created = api.create_branch(parent, name, git_branch=inputs["git_branch"])
            ref = str(created["project_ref"])
            try:
                branch = api.wait_migrated(parent, name, self.wait_deadline_s, self.poll_s)
                outs = self._outputs(api, inputs, branch)
            except SupabaseError as exc:
                raise _rolled_back(api, ref, exc) from exc
        return CreateResult(id_=ref, outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in REPLACE_KEYS if olds.get(k) != news.get(k)]
        changes = bool(replaces) or olds.get("access_token") != news.get("access_token")
        # Delete first: the new branch would have the same name, which the API refuses twice.
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = _inputs(news)
        with self._client(inputs) as api:
            branch = api.get_branch(inputs["parent_ref"], inputs["branch_name"])
            if branch is None:
                raise SupabaseError(
                    f"supabase: branch {inputs['branch_name']} ({id_}) no longer exists; run "
                    "`pulumi refresh` so the next `pulumi up` creates it again"
                )
            return UpdateResult(outs=self._outputs(api, inputs, branch))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = _inputs(props)
        with self._client(inputs) as api:
            if api.branch_config(id_) is None:
                return ReadResult(id_="", outs={})
            branch = api.get_branch(inputs["parent_ref"], inputs["branch_name"])
            if branch is None:
                return ReadResult(id_="", outs={})
            return ReadResult(id_=id_, outs={**props, **self._outputs(api, inputs, branch)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self._client(props) as api:
            api.delete_branch(id_)


def _rolled_back(api: SupabaseBranchClient, ref: str, error: SupabaseError) -> SupabaseError:
    """`error` (its type kept), after deleting the half-made branch, saying whether that worked."""
    try:
        api.delete_branch(ref)
        outcome = f"branch {ref} was deleted again"
    except SupabaseError as cleanup:
        outcome = f"deleting branch {ref} failed too ({cleanup}); delete it in the dashboard"
    error.args = (f"{error}; {outcome}",)
    return error


class SupabaseBranch(Resource):
    """One preview branch of a Supabase project: its database, keys and URLs (`*` = secret).

    >>> branch = SupabaseBranch(  # doctest: +SKIP
    ...     "database-branch", parent_ref="abcdefghijklmnopqrst", branch_name="pr-42",
    ...     git_branch="feat/x", access_token=token)
    """

    ref: pulumi.Output[str]
    """The branch's own project ref (also the resource id)."""
    branch_id: pulumi.Output[str]
    """The branch's id (BranchResponse.id)."""
    status: pulumi.Output[str]
    """MIGRATIONS_PASSED (or FUNCTIONS_DEPLOYED) once usable."""
    url: pulumi.Output[str]
    """`https://<ref>.supabase.co`."""
    anon_key: pulumi.Output[str]
    """* Public key (publishable, else the legacy anon JWT)."""
    service_role_key: pulumi.Output[str]
    """* Server key (secret, else the legacy service_role JWT)."""
    database_url: pulumi.Output[str]
    """* Transaction-mode pooler URL of the branch's database."""
    migrations_url: pulumi.Output[str]
    """* Session-mode pooler URL: what migrations connect to."""

    def __init__(
        self,
        resource_name: str,
        *,
        parent_ref: pulumi.Input[str],
        branch_name: pulumi.Input[str],
        git_branch: pulumi.Input[str],
        access_token: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "parent_ref": parent_ref,
            "branch_name": branch_name,
            "git_branch": git_branch,
            "access_token": pulumi.Output.secret(access_token),
            **{key: None for key in OUTPUT_KEYS},
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        super().__init__(
            SupabaseBranchProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret),
        )
