"""The guide's five Inngest functions (Phase 3.2), served by the real `inngest` SDK.

Mode and servers come from the SDK's own env: `INNGEST_DEV=1` + `INNGEST_BASE_URL` (the local
Dev Server), or `INNGEST_SIGNING_KEY` / `INNGEST_EVENT_KEY` (Inngest Cloud). The app id makes
the function slugs Inngest shows: `mentora-process-video`, ...
"""

from __future__ import annotations

import datetime
import logging
import os
from typing import Any

import inngest

from reference_app import video_chunks

APP_ID = "mentora"
_log = logging.getLogger("reference_app.jobs")

# The guide's functions with their triggers, in its order (tests compare with smoke.guide).
TRIGGERS: dict[str, inngest.TriggerEvent | inngest.TriggerCron] = {
    "process-video": inngest.TriggerEvent(event="video/upload.completed"),
    "generate-quiz": inngest.TriggerEvent(event="quiz/generate.requested"),
    "aggregate-daily-analytics": inngest.TriggerCron(cron="0 2 * * *"),
    "check-content-health": inngest.TriggerCron(cron="0 */6 * * *"),
    "send-email": inngest.TriggerEvent(event="email/send"),
}


def make_client() -> inngest.Inngest:
    """The app's Inngest client; the SDK reads its mode, keys and base URLs from the env.

    With neither `INNGEST_DEV` nor `INNGEST_SIGNING_KEY` set the SDK would refuse to serve
    (cloud mode needs the key): the app then serves in dev mode, and smoke on a cloud stack
    fails on `mode: dev`, naming INNGEST_SIGNING_KEY.
    """
    configured = os.environ.get("INNGEST_DEV") or os.environ.get("INNGEST_SIGNING_KEY")
    return inngest.Inngest(app_id=APP_ID, logger=_log, is_production=None if configured else False)


client = make_client()


def _fn(fn_id: str, retries: int = 0) -> Any:
    # retries=0: a smoke run that fails should fail now, not after the SDK's 4 retries.
    return client.create_function(fn_id=fn_id, trigger=TRIGGERS[fn_id], retries=retries)


@_fn("process-video")
async def process_video(ctx: inngest.Context) -> dict[str, Any]:
    """Chunk -> embed -> store a `video_chunks` row, check it by vector distance, then clean up.

    A smoke event (`smokeMarker`) works on rows it creates and deletes in its last step; a real
    event (`videoId`) marks that video ready.
    """
    data = ctx.event.data
    marker = data.get("smokeMarker")
    if marker is not None:
        marker = video_chunks.require_marker(marker)

        async def prepare() -> str:
            return await video_chunks.create_smoke_video(marker)

        video_id = await ctx.step.run("create-smoke-video", prepare)
    else:
        video_id = str(data.get("videoId") or "")
        if not video_id:
            raise inngest.NonRetriableError("process-video: event data needs videoId")
    content = f"{marker or video_id}: transcript chunk 0"

    async def embed() -> str:
        return await video_chunks.write_chunk(video_id, content)

    chunk_id = await ctx.step.run("embed-and-store-chunk", embed)

    async def verify() -> float:
        distance = await video_chunks.nearest_distance(chunk_id, content)
        if distance > 1e-6:
            raise inngest.NonRetriableError(f"process-video: stored embedding is off ({distance})")
        return distance

    distance = await ctx.step.run("verify-embedding", verify)

    async def finish() -> int:
        if marker is not None:
            return await video_chunks.delete_smoke_rows(marker)
        await video_chunks.mark_video(video_id, "ready")
        return 0

    removed = await ctx.step.run("cleanup" if marker else "mark-ready", finish)
    return {"video_id": video_id, "chunk_id": chunk_id, "distance": distance, "removed": removed}


@_fn("generate-quiz")
async def generate_quiz(ctx: inngest.Context) -> dict[str, Any]:
    """Drafts a quiz for a video (the AI call is the app's; here a fixed three-question draft)."""
    video_id = ctx.event.data.get("videoId")

    async def draft() -> list[str]:
        return [f"question {i + 1} about {video_id}" for i in range(3)]

    questions = await ctx.step.run("draft-questions", draft)
    return {"video_id": video_id, "questions": len(questions)}


@_fn("aggregate-daily-analytics", retries=2)
async def aggregate_daily_analytics(ctx: inngest.Context) -> dict[str, Any]:
    """Nightly roll-up of the previous day's activity."""

    async def day() -> str:
        return (datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=1)).isoformat()

    return {"day": await ctx.step.run("pick-day", day)}


@_fn("check-content-health", retries=2)
async def check_content_health(ctx: inngest.Context) -> dict[str, Any]:
    """Six-hourly scan for videos stuck in processing or failed."""

    async def scan() -> str:
        return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")

    return {"scanned_at": await ctx.step.run("scan", scan)}


@_fn("send-email", retries=3)
async def send_email(ctx: inngest.Context) -> dict[str, Any]:
    """Sends one transactional email (the provider call is the app's; here it is recorded)."""
    to = ctx.event.data.get("to")

    async def record() -> bool:
        _log.info("send-email: queued a %s email", ctx.event.data.get("template", "plain"))
        return bool(to)

    return {"queued": await ctx.step.run("send", record)}


FUNCTIONS: list[inngest.Function[Any]] = [
    process_video,
    generate_quiz,
    aggregate_daily_analytics,
    check_content_health,
    send_email,
]
