"""The Inngest functions the app serves, and the introspection document of `GET /api/inngest`."""

from __future__ import annotations

# The guide's five job functions (Phase 3.2), with the event or schedule that triggers each.
FUNCTIONS: tuple[dict[str, str], ...] = (
    {"id": "process-video", "trigger": "event:video/upload.completed"},
    {"id": "generate-quiz", "trigger": "event:quiz/generate.requested"},
    {"id": "aggregate-daily-analytics", "trigger": "cron:0 2 * * *"},
    {"id": "check-content-health", "trigger": "cron:0 */6 * * *"},
    {"id": "send-email", "trigger": "event:email/send"},
)


def introspection(*, has_event_key: bool, has_signing_key: bool) -> dict[str, object]:
    """What an Inngest dev-mode handler answers to an unsigned `GET /api/inngest`."""
    return {
        "mode": "dev",
        "function_count": len(FUNCTIONS),
        "functions": [dict(f) for f in FUNCTIONS],
        "has_event_key": has_event_key,
        "has_signing_key": has_signing_key,
    }
