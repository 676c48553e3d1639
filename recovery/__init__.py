"""Backups proven by restore: the local drill and restore, the archive layout they share."""
