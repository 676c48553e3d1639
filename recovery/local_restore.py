"""`mentora-infra restore local --to TIME`: recover the stack's own database to TIME.

Everything that can be checked is checked before the live server is touched: the base backup
before TIME exists, its files match `info.json` and its manifest, and the archive holds every
WAL segment up to TIME. Then, holding the stack's gate lock: the live Postgres is stopped (only
the server recorded as ours, `components/local/ownership`), its `pgdata` is moved aside to
`pgdata.before-restore-<UTC time>` (kept until the next green gate after the restore:
recovery/aside.py),
the backup is unpacked in its place and recovered to TIME (on its own Unix socket), archiving
the new timeline into the spool, and stopped. The caller then runs the gate (`up` + smoke), which
starts the server where it belongs.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.local import ownership
from components.local.postgres_layout import WAL_SPOOL
from recovery import manifest
from recovery.archive_reader import Archive, Feeder, WalPlan
from recovery.aside import ASIDE
from recovery.recovering_server import RecoveringServer, recover_to

APP_DIR = "app"  # the app's folder beside the database's in the stack's state dir


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    backup: str
    wal_segments: int
    aside: Path
    """Where the previous data is kept."""


def restore(
    backup: dict[str, Any], target: datetime, on_step: Callable[[str], None] = lambda _s: None
) -> Restored:
    """Recover the live database of a local stack (its `backup` output) to `target`."""
    from psycopg.conninfo import conninfo_to_dict

    info = {
        k: str(v) for k, v in conninfo_to_dict(str(backup["admin_url"])).items() if v is not None
    }
    root = Path(backup["postgres_data_dir"])
    archive = Archive(backup)
    chosen = archive.base_backup_before(target)
    plan = archive.wal_plan(chosen, target)
    work = Path(tempfile.mkdtemp(prefix="mentora-restore-"))
    try:
        on_step(f"downloading and verifying base backup {chosen.id}")
        archive.download_base(chosen, work)
        manifest.verify(work, archive.where(f"base/{chosen.id}/"))
        on_step(f"stopping the stack's Postgres on port {backup['postgres_port']}")
        owner = ownership.find(root, int(backup["postgres_port"]))
        ownership.stop(owner, "postgres", ownership.GRACE_S, signal.SIGINT)  # fast shutdown
        # The stack's app too (only the process its record proves ours): no request writes to
        # a half-restored database, and the gate's refresh starts it with fresh connections
        # (kept running, its /api/test-sentry hung on the old server's, seen in the test).
        app = ownership.find(root.parent / APP_DIR)
        ownership.stop(app, "app", ownership.GRACE_S)
        aside = root / f"{ASIDE}{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
        (root / "pgdata").rename(aside)
        on_step(f"previous data kept in {aside}")
        try:
            _recover(root, archive, plan, work, target, info, on_step)
        except BaseException:
            # The stack must not be left on a failed recovery: its previous data goes back.
            shutil.rmtree(root / "pgdata", ignore_errors=True)
            aside.rename(root / "pgdata")
            on_step(
                f"recovery failed: the previous data is back in {root / 'pgdata'}; "
                "run `make up` to start it"
            )
            raise
        finally:
            shutil.rmtree(root / "wal-in", ignore_errors=True)
            (root / "restore.sh").unlink(missing_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Restored(chosen.id, len(plan.segments), aside)


def _recover(
    root: Path,
    archive: Archive,
    plan: WalPlan,
    work: Path,
    target: datetime,
    info: dict[str, str],
    on_step: Callable[[str], None],
) -> None:
    """Recover the base backup in `work` into `root`/pgdata to `target`, then stop it."""
    server = RecoveringServer(root, spool=root / WAL_SPOOL)
    owner_ids = server.prepare(work / "base.tar.gz")
    feeder = Feeder(archive, plan, server.wal_in, owner_ids)
    on_step(f"replaying {len(plan.segments)} WAL segment(s) to {target.isoformat()}")
    try:
        recover_to(server, feeder, target, info["user"], info["password"])
    finally:
        feeder.halt()
        server.stop()
