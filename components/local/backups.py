"""`LocalBackups`: continuous archiving of the local database into the store's backup bucket."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pulumi

from components.local.backup_archiver import ArchiverSettings, BackupArchiver
from components.local.postgres_layout import WAL_SPOOL
from components.local.postgres_server import ADMIN_USER, PostgresServer
from components.local.storage import LocalStorage


@dataclass(frozen=True, kw_only=True)
class LocalBackupsArgs:
    """The archiver's port and folder, and how long backups are kept."""

    port: int
    data_dir: str
    postgres_port: int
    postgres_data_dir: str
    archive_timeout: int
    retention_days: int
    base_backups_kept: int
    hints: Mapping[str, str] = field(default_factory=dict)


class LocalBackups(pulumi.ComponentResource):
    """Owns the backup archiver of the local Postgres (its WAL spool -> the backup bucket)."""

    status_url: pulumi.Output[str]
    """The archiver's `GET /status` (what it uploaded last, its errors with their fix)."""

    def __init__(
        self,
        name: str,
        args: LocalBackupsArgs,
        server: PostgresServer,
        storage: LocalStorage,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mentora:infra:LocalBackups", name, None, opts)
        # Outputs of the server and the store: the engine resolves them before the provider.
        settings = ArchiverSettings(
            port=args.port,
            data_dir=Path(args.data_dir),
            hints=args.hints,
            spool=str(Path(args.postgres_data_dir).absolute() / WAL_SPOOL),
            pg_port=args.postgres_port,
            admin_user=ADMIN_USER,
            admin_password=cast(str, server.admin_password),
            endpoint=cast(str, storage.endpoint),
            region=cast(str, storage.region),
            bucket=storage.backup_bucket,
            access_key_id=cast(str, storage.backup_access_key_id),
            secret_access_key=cast(str, storage.backup_secret_access_key),
            archive_timeout=args.archive_timeout,
            retention_days=args.retention_days,
            base_backups_kept=args.base_backups_kept,
        )
        archiver = BackupArchiver(
            f"{name}-archiver", settings, pulumi.ResourceOptions(parent=self, depends_on=[server])
        )
        self.status_url = archiver.status_url
        self.register_outputs({"status_url": self.status_url})
