"""Restore drills and restores: a scratch Postgres (`scratch.py`), the proofs every drill runs
on a restored copy (`proofs.py`), the drill report (`report.py`), and the cloud paths
(`cloud_drill.py`: prod copied read-only with pg_dump; `cloud_restore.py`: Supabase PITR)."""
