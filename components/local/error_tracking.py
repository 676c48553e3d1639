"""`LocalErrorTracking`: a Sentry-compatible tracker (Bugsink) the app reports errors to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from components.local.error_tracker import ErrorTracker, TrackerSettings


@dataclass(frozen=True, kw_only=True)
class LocalErrorTrackingArgs:
    """Where the tracker runs."""

    port: int
    data_dir: str
    hints: Mapping[str, str] = field(default_factory=dict)
    """How the user changes a setting (`port`, `data_dir`), shown in the server's errors."""


class LocalErrorTracking(pulumi.ComponentResource):
    """Owns the local Bugsink: its project's DSN (SENTRY_DSN) and an API token to read events."""

    dsn: pulumi.Output[str]
    """The project's DSN (secret)."""
    api_url: pulumi.Output[str]
    """Bugsink's base URL (SENTRY_API_URL)."""
    api_token: pulumi.Output[str]
    """A token of its API (secret; SENTRY_AUTH_TOKEN)."""
    project_id: pulumi.Output[str]
    """The project's id (SENTRY_PROJECT)."""
    admin_password: pulumi.Output[str]
    """Its admin's password (secret): review stacks' projects are deleted in its console."""

    def __init__(
        self, name: str, args: LocalErrorTrackingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mentora:infra:LocalErrorTracking", name, None, opts)
        settings = TrackerSettings(port=args.port, data_dir=Path(args.data_dir), hints=args.hints)
        tracker = ErrorTracker(f"{name}-server", settings, pulumi.ResourceOptions(parent=self))
        self.dsn = pulumi.Output.secret(tracker.dsn)
        self.api_url = tracker.url
        self.api_token = pulumi.Output.secret(tracker.api_token)
        self.project_id = tracker.project_id
        self.admin_password = pulumi.Output.secret(tracker.admin_password)
        self.register_outputs({"api_url": self.api_url, "project_id": self.project_id})
