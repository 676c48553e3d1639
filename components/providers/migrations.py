"""`MigrationsResource`: the schema of `supabase/migrations/`, applied by a dynamic provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from components.providers import migration_runner


class MigrationsProvider(ResourceProvider):
    """Applies pending migration files; the checksums input makes every file change a diff."""

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        folder = Path(props["migrations_dir"])
        try:
            migration_runner.apply(props["admin_url"], folder)
            applied = migration_runner.applied_versions(props["admin_url"])
        except migration_runner.MigrationError as exc:
            raise Exception(str(exc)) from None  # noqa: TRY002 - the engine shows the message
        except Exception as exc:  # noqa: BLE001 - driver errors may carry the URL: name the type
            raise Exception(f"migrations: database unreachable ({type(exc).__name__})") from None
        return {
            "admin_url": props["admin_url"],
            "migrations_dir": props["migrations_dir"],
            "checksums": props["checksums"],
            "applied": applied,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_="migrations", outs=self._apply(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            key for key in ("checksums", "migrations_dir", "admin_url")
            if olds.get(key) != news.get(key)
        ]
        # A refresh that found fewer applied versions than files also needs an apply.
        if sorted(olds.get("applied", [])) != sorted(news.get("checksums", {})):
            changed.append("applied")
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            applied = migration_runner.applied_versions(props["admin_url"])
        except Exception:  # noqa: BLE001 - server down: keep what the state says
            applied = props.get("applied", [])
        return ReadResult(id_=id_, outs={**props, "applied": applied})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # The schema is data: it goes away with the database, never by reversing migrations.
        return None


class MigrationsResource(Resource):
    """The schema version of one database: every file of `migrations_dir`, applied in order."""

    applied: pulumi.Output[list[str]]
    checksums: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        *,
        admin_url: pulumi.Input[str],
        migrations_dir: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "admin_url": pulumi.Output.secret(admin_url),
            "migrations_dir": migrations_dir,
            # Computed here so `pulumi preview` shows a diff as soon as a file is added or edited.
            "checksums": migration_runner.checksums(Path(migrations_dir)),
            "applied": None,
        }
        super().__init__(MigrationsProvider(), name, props, opts)
