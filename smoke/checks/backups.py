"""Backups (local stacks): the archiver works, the newest archived WAL is no older than twice
`archive_timeout`, a base backup exists within retention, and the app's key can neither read
nor delete backups. A failing archiver is named with its own error and fix (the backup bucket
unreachable, its key refused). Cloud stacks keep Supabase's PITR: proven by
`mentora-infra drill prod`, not here.

The bucket layout is components/local/backup_layout.py's (the archiver writes it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from smoke.checks import check, client
from smoke.checks.common import Recorder, fail_if_down, unreachable
from smoke.clients.s3 import signed_client
from smoke.failures import CheckFailed, CheckSkipped
from smoke.outputs import StackOutputs

# The bucket layout of components/local/backup_layout.py (smoke imports no component: a unit
# test, tests/unit/smoke/test_backups_layout.py, fails when the two drift).
WAL_PREFIX, BASE_PREFIX, INFO = "wal/", "base/", "info.json"
NO_BACKUPS = (
    "backups: this stack keeps no local backups (mentora:backups false: a disposable stack, such "
    "as a review stack; cloud: `mentora-infra drill prod`)"
)


@dataclass
class Backups:
    """The backup bucket (read with the archiver's own key) and what the archiver reports."""

    client: Any
    endpoint: str
    bucket: str
    archive_timeout: int
    retention_days: int
    status_url: str
    timeout_s: float
    fix: str
    down: str = ""
    """Why the bucket cannot be reached ("" when it answered): its checks fail with it at once."""
    status: dict[str, Any] | None = None

    @property
    def target(self) -> str:
        """The bucket as a check's target: its endpoint and name."""
        return f"{self.endpoint.rstrip('/')}/{self.bucket}"

    def ask_archiver(self) -> None:
        """Read the archiver's status page into `status` (None when it does not answer)."""
        import httpx

        try:
            answer = httpx.get(self.status_url, timeout=self.timeout_s)
            self.status = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            self.status = None

    def require_bucket(self) -> None:
        """Fail at once, with the archiver's own words, when the bucket did not answer."""
        if self.down:
            says = self.archiver_says() or "nothing"
            raise CheckFailed(f"{self.down}; the archiver says: {says}")

    def archiver_says(self) -> str:
        """The archiver's own errors, or why it could not be asked."""
        if self.status is None:
            return f"the archiver does not answer at {self.status_url}"
        errors = self.status.get("errors") or {}
        return "; ".join(f"{task}: {text}" for task, text in sorted(errors.items()))


def _s3(backup: dict[str, Any], timeout_s: float, key: str, secret: str) -> Any:
    return signed_client(backup["endpoint"], backup["region"], (key, secret), timeout_s)


@client
def backups(outputs: StackOutputs, timeout_s: float) -> Iterator[Backups]:
    backup = outputs.backup
    if not backup:
        raise CheckSkipped(NO_BACKUPS)
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    what = f"backup bucket {backup['bucket']}"
    s3 = _s3(backup, timeout_s, backup["access_key_id"], backup["secret_access_key"])
    down = ""
    try:  # one wait for a dead or hung store, recorded for every other check of it
        fail_if_down("backups", what, backup["endpoint"], outputs)  # found by storage's checks
        s3.head_bucket(Bucket=backup["bucket"])
    except CheckFailed as exc:
        down = str(exc)
    except BotoCoreError as exc:
        down = str(unreachable("backups", what, backup["endpoint"], exc, outputs))
    except ClientError:
        pass  # it answered: each check reports what it finds
    found = Backups(
        s3,
        backup["endpoint"],
        backup["bucket"],
        int(backup["archive_timeout"]),
        int(backup["retention_days"]),
        backup["status_url"],
        timeout_s,
        outputs.fix,
        down=down,
    )
    found.ask_archiver()
    yield found


def _listed(b: Backups, prefix: str) -> list[dict[str, Any]]:
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    b.require_bucket()
    try:
        pages = b.client.get_paginator("list_objects_v2").paginate(Bucket=b.bucket, Prefix=prefix)
        return [item for page in pages for item in page.get("Contents", [])]
    except (BotoCoreError, ClientError) as exc:
        raise CheckFailed(
            f"backups: listing s3://{b.bucket}/{prefix} failed ({type(exc).__name__}: {exc}); "
            f"the archiver says: {b.archiver_says() or 'nothing'}; run: {b.fix}"
        ) from None


@check()
def test_archiver_reports_no_error(backups: Backups, check: Recorder) -> None:
    with check.timed(backups.status_url):
        backups.ask_archiver()
    problem = backups.archiver_says()
    if problem:
        raise CheckFailed(f"backups: {problem}; run: {backups.fix}")


@check()
def test_newest_wal_is_fresh(backups: Backups, check: Recorder) -> None:
    with check.timed(backups.target):
        wal = [i for i in _listed(backups, WAL_PREFIX) if i["Key"].endswith(".gz")]
    limit = timedelta(seconds=2 * backups.archive_timeout)
    if not wal:
        raise CheckFailed(
            f"backups: no WAL archived in s3://{backups.bucket}/{WAL_PREFIX}; the archiver "
            f"says: {backups.archiver_says() or 'nothing'}; run: {backups.fix}"
        )
    newest = max(wal, key=lambda i: i["LastModified"])
    age = datetime.now(UTC) - newest["LastModified"]
    check.record("newest_wal_age_s", round(age.total_seconds(), 1))
    if age > limit:
        raise CheckFailed(
            f"backups: the newest archived WAL ({newest['Key']}) is {age.total_seconds():.0f} s "
            f"old, more than twice archive_timeout ({limit.total_seconds():.0f} s); the archiver "
            f"says: {backups.archiver_says() or 'nothing'}; run: {backups.fix}"
        )


@check()
def test_base_backup_within_retention(backups: Backups, check: Recorder) -> None:
    with check.timed(backups.target):
        infos = [i for i in _listed(backups, BASE_PREFIX) if i["Key"].endswith(INFO)]
    if not infos:
        raise CheckFailed(
            f"backups: no complete base backup in s3://{backups.bucket}/{BASE_PREFIX}; "
            f"the archiver says: {backups.archiver_says() or 'nothing'}; run: {backups.fix}"
        )
    newest = max(infos, key=lambda i: i["LastModified"])
    age = datetime.now(UTC) - newest["LastModified"]
    check.record("newest_base_backup_age_h", round(age.total_seconds() / 3600, 2))
    if age > timedelta(days=backups.retention_days):
        raise CheckFailed(
            f"backups: the newest base backup ({newest['Key']}) is older than the retention of "
            f"{backups.retention_days} days; the archiver says: "
            f"{backups.archiver_says() or 'nothing'}; run: {backups.fix}"
        )


@check()
def test_app_key_cannot_read_or_delete_backups(
    backups: Backups, outputs: StackOutputs, timeout_s: float, check: Recorder
) -> None:
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    backups.require_bucket()
    env = outputs.env
    app = _s3(outputs.backup, timeout_s, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    allowed, probe = [], f"{WAL_PREFIX}probe.gz"
    with check.timed(backups.target):
        for action, call in (
            ("list", lambda: app.list_objects_v2(Bucket=backups.bucket)),
            ("read", lambda: app.get_object(Bucket=backups.bucket, Key=probe)),
            ("delete", lambda: app.delete_object(Bucket=backups.bucket, Key=probe)),
        ):
            try:
                call()
                allowed.append(action)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "AccessDenied":
                    allowed.append(f"{action} ({exc.response.get('Error', {}).get('Code')})")
    if allowed:
        raise CheckFailed(
            f"backups: the app's key may {', '.join(allowed)} in s3://{backups.bucket}; the "
            f"backup bucket must be the archiver's alone; run: {backups.fix}"
        )
