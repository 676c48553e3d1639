"""What a local review stack keeps in its base stack's servers (stacks/local_tenant.py): a
database and login in its Postgres, a bucket and IAM user in its S3 store, a project in its
Bugsink. `review down` and `review sweep` drop them by name, without the stack's state, so a
stack whose state is lost or half-made leaves nothing in the base either; and check the
servers, not a record, after."""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml  # type: ignore[import-untyped]

from review import pulumi_cli, settings
from review.base import BASE_OUTPUT
from review.errors import ReviewError, ReviewUsage
from review.naming import LOCAL_BASE
from review.state import Paths


class Names(NamedTuple):
    """A review stack's names in its base."""

    base: str
    database: str
    app_user: str
    bucket: str
    region: str


def names_of(paths: Paths) -> Names | None:
    """Its generated settings' names, else derived again from the base's settings (the file of
    a killed `review up` may be gone); None when neither can be read."""
    with contextlib.suppress(OSError, yaml.YAMLError, AttributeError, KeyError):
        config = (yaml.safe_load(paths.config_file.read_text()) or {}).get("config") or {}
        if config.get("mentora:baseStack"):
            keys = ("baseStack", "databaseName", "appUser", "bucketName", "region")
            return Names(*(str(config[f"mentora:{key}"]) for key in keys))
    with contextlib.suppress(ReviewUsage):
        base = settings.base_config(paths.root)
        database, app_user = settings.tenant_names(paths.stack, base)
        bucket = settings.tenant_bucket(paths.stack, base)
        return Names(LOCAL_BASE, database, app_user, bucket, str(base.get("mentora:region")))
    return None


@dataclass(frozen=True)
class Tenant:
    """A review stack's database and bucket in its base stack's servers."""

    stack: str
    names: Names
    shared: dict[str, Any] | None
    """The base's `review_base` output (its admin credentials); None when the base has none
    (destroyed, its servers with it: nothing of the tenant can be left)."""

    @classmethod
    def of(cls, paths: Paths) -> Tenant | None:
        names = names_of(paths)
        if names is None:
            return None
        shared = pulumi_cli.output(paths.root, names.base, BASE_OUTPUT, secret=True)
        return cls(paths.stack, names, shared if isinstance(shared, dict) else None)

    @functools.cached_property
    def _store(self) -> Any:
        """The base's store, as its tenant admin (its clients made once)."""
        from components.local.s3_tenant import Store

        assert self.shared is not None
        return Store(
            str(self.shared["storage_endpoint"]),
            self.names.region,
            str(self.shared["storage_admin_key_id"]),
            str(self.shared["storage_admin_secret"]),
        )

    @functools.cached_property
    def _tracker(self) -> Any:
        from components.local.bugsink_api import Tracker

        assert self.shared is not None
        shared = self.shared
        return Tracker(
            shared["errors_url"], shared["errors_token"], shared["errors_admin_password"]
        )

    def _project(self) -> str:
        from components.local.error_tracker import TrackerSettings

        return f"{TrackerSettings.project}-{self.stack}"

    def _present(self) -> tuple[list[str], list[str], str | None]:
        from components.local.postgres_database import present
        from components.local.s3_tenant import tenant_user

        assert self.shared is not None
        url = str(self.shared["postgres_admin_url"])
        database = present(url, self.names.database, self.names.app_user)
        storage = self._store.present(self.names.bucket, tenant_user(self.stack))
        return database, storage, self._tracker.project_id(self._project())

    def drop(self) -> list[str]:
        """Drop the database (its sessions ended), the login, the bucket with its objects, the
        IAM user and the Bugsink project with its events; what was done."""
        import httpx
        import psycopg
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        from components.local.errors import LocalServerError
        from components.local.postgres_database import drop
        from components.local.s3_tenant import tenant_user

        if self.shared is None:
            return []
        names, base = self.names, self.names.base
        try:
            database, storage, project = self._present()
            if database:
                drop(str(self.shared["postgres_admin_url"]), names.database, names.app_user)
            if storage:
                self._store.drop(names.bucket, tenant_user(self.stack))
            if project:
                self._tracker.delete(project)
        except (
            psycopg.Error,
            BotoCoreError,
            ClientError,
            httpx.HTTPError,
            LocalServerError,
        ) as exc:
            raise ReviewError(
                f"{self.stack}: cannot drop what it keeps in the base stack {base}'s servers "
                f"({str(exc).strip()}); bring {base} up (make up) and run this again"
            ) from None
        gone = database + storage + ([f"Bugsink project {self._project()}"] if project else [])
        return [f"dropped {', '.join(gone)} from {base}'s servers"] * bool(gone)

    def left(self) -> list[str]:
        """Its database, login, bucket, user and project, if the base's servers have them."""
        import httpx
        import psycopg
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        if self.shared is None:
            return []
        try:
            database, storage, project = self._present()
        except (psycopg.Error, BotoCoreError, ClientError, httpx.HTTPError) as exc:
            return [f"what {self.stack} keeps in {self.names.base} (unverified: {exc})"]
        found = database + storage + ([f"Bugsink project {self._project()}"] if project else [])
        return [f"{what} in {self.names.base}'s servers" for what in found]
