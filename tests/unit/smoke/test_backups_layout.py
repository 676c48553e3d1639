"""Smoke's backup check repeats three names of the archive layout (smoke imports no component):
they must be the archiver's own."""

from __future__ import annotations

from components.local import backup_layout
from smoke.checks import backups


def test_smoke_reads_the_layout_the_archiver_writes() -> None:
    assert backups.WAL_PREFIX == backup_layout.WAL_PREFIX
    assert backups.BASE_PREFIX == backup_layout.BASE_PREFIX
    assert backups.INFO == backup_layout.INFO
    assert backup_layout.wal_key("x").endswith(".gz")  # what the freshness check counts as WAL
