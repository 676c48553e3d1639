"""The local servers of a stack, named once: `stacks/local.py` wires them, `review/` tears a
review stack's down (this module imports no Pulumi, so the CLI can read it)."""

from __future__ import annotations

# Each local server: its service name, the config key of its port, its folder in stateDir.
SERVERS: dict[str, tuple[str, str]] = {
    "postgres": ("postgresPort", "postgres"),
    "redis": ("redisPort", "redis"),
    "storage": ("storagePort", "s3"),
    "app": ("appPort", "app"),
    "jobs": ("inngestPort", "inngest"),
    "errors": ("errorTrackerPort", "bugsink"),
    "watch": ("watchPort", "watch"),  # only with mentora:watch
    "backups": ("backupArchiverPort", "backups"),
}
