"""Supabase backups and point-in-time recovery through the Management API (`SupabaseHttp`'s
token, timeouts and retries).

Shapes, from the published OpenAPI spec (supabase/cli `packages/api/src/generated/openapi.json`,
operations `v1-list-all-backups` and `v1-restore-pitr-backup`):

- ``GET /v1/projects/{ref}/database/backups`` -> 200 `V1BackupsResponse` {region, walg_enabled,
  pitr_enabled, backups: [{id, is_physical_backup, status: COMPLETED | FAILED | PENDING |
  REMOVED | ARCHIVED | CANCELLED, inserted_at}], physical_backup_data:
  {earliest_physical_backup_date_unix?, latest_physical_backup_date_unix?}} (all required but
  the two dates);
- ``POST /v1/projects/{ref}/database/backups/restore-pitr`` `V1RestorePitrBody`
  {recovery_time_target_unix: int64 >= 0} -> 201, no body. The project itself is restored: every
  write after the target is lost. Not idempotent: retried only when it cannot have been sent.

>>> with SupabaseHttp(token) as http:  # doctest: +SKIP
...     backups = list_backups(http, ref)
...     backups.pitr_window()
(1764800000, 1764889000)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.cloud.errors import SupabaseError
from components.cloud.supabase_http import SupabaseHttp

BACKUP_STATUSES = ("COMPLETED", "FAILED", "PENDING", "REMOVED", "ARCHIVED", "CANCELLED")


@dataclass(frozen=True)
class Backup:
    """One backup the API lists (`is_physical_backup`: a base backup of a PITR project)."""

    id: int
    physical: bool
    status: str
    inserted_at: str


@dataclass(frozen=True)
class Backups:
    """The project's backups and its point-in-time recovery window (unix seconds)."""

    region: str
    pitr_enabled: bool
    walg_enabled: bool
    backups: tuple[Backup, ...]
    earliest_unix: int | None
    latest_unix: int | None

    def pitr_window(self) -> tuple[int, int] | None:
        """(earliest, latest) restorable times, or None when PITR is off or has no data yet."""
        if not self.pitr_enabled or self.earliest_unix is None or self.latest_unix is None:
            return None
        return self.earliest_unix, self.latest_unix


def parse_backups(ref: str, answer: Any) -> Backups:
    """A `V1BackupsResponse`; `SupabaseError` naming the project when it has another shape."""
    try:
        physical = answer.get("physical_backup_data") or {}
        earliest = physical.get("earliest_physical_backup_date_unix")
        latest = physical.get("latest_physical_backup_date_unix")
        return Backups(
            region=str(answer["region"]),
            pitr_enabled=bool(answer["pitr_enabled"]),
            walg_enabled=bool(answer["walg_enabled"]),
            backups=tuple(
                Backup(
                    id=int(b["id"]),
                    physical=bool(b["is_physical_backup"]),
                    status=str(b["status"]),
                    inserted_at=str(b["inserted_at"]),
                )
                for b in answer["backups"]
            ),
            earliest_unix=None if earliest is None else int(earliest),
            latest_unix=None if latest is None else int(latest),
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        raise SupabaseError(
            f"supabase: GET /v1/projects/{ref}/database/backups answered an unexpected shape "
            "(expected V1BackupsResponse: region, walg_enabled, pitr_enabled, backups, "
            "physical_backup_data)"
        ) from None


def list_backups(http: SupabaseHttp, ref: str) -> Backups:
    """The project's backups and PITR window."""
    return parse_backups(ref, http.request("GET", f"/v1/projects/{ref}/database/backups"))


def restore_pitr(http: SupabaseHttp, ref: str, recovery_time_target_unix: int) -> None:
    """Start restoring the project to `recovery_time_target_unix` (the API answers 201 at once;
    the project then restores, and reports ACTIVE_HEALTHY again when done)."""
    if recovery_time_target_unix < 0:
        raise SupabaseError(f"supabase: recovery time {recovery_time_target_unix} is before 1970")
    http.request(
        "POST",
        f"/v1/projects/{ref}/database/backups/restore-pitr",
        body={"recovery_time_target_unix": int(recovery_time_target_unix)},
        idempotent=False,
    )
