"""The database work of process-video: a `video_chunks` row with an embedding, and its cleanup.

A smoke event carries `smokeMarker` (`smoke:<run-id>:...`): the function then creates its own
parent rows (auth user -> creator -> video), all named by the marker, and deletes them in its
last step (`on delete cascade` removes the creator, video and chunk with the user).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

EMBEDDING_DIMENSIONS = 1536  # video_chunks.embedding is extensions.vector(1536)
SMOKE_PREFIX = "smoke:"
CONNECT_TIMEOUT_S = 3


def smoke_email(marker: str) -> str:
    """The auth user a smoke run owns; `.invalid` never receives mail (RFC 2606).

    >>> smoke_email("smoke:ab12:jobs")
    'smoke-ab12-jobs@smoke.invalid'
    """
    return marker.replace(":", "-") + "@smoke.invalid"


def embedding_for(text: str) -> str:
    """A deterministic vector literal (pgvector text form) derived from `text`.

    >>> embedding_for("x").count(",") + 1 == EMBEDDING_DIMENSIONS
    True
    """
    seed = hashlib.sha256(text.encode()).digest()
    values = [((seed[i % len(seed)] + i) % 97) / 97 for i in range(EMBEDDING_DIMENSIONS)]
    return "[" + ",".join(f"{v:.4f}" for v in values) + "]"


def require_marker(marker: object) -> str:
    """The smoke marker; refused unless namespaced (`smoke:`): cleanup never hits real data."""
    if not isinstance(marker, str) or not marker.startswith(SMOKE_PREFIX) or len(marker) > 100:
        raise ValueError(f"process-video: smokeMarker must start with {SMOKE_PREFIX!r}")
    return marker


async def _connect() -> Any:
    import psycopg

    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("process-video: set DATABASE_URL (the stack's env provides it)")
    return await psycopg.AsyncConnection.connect(
        url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True
    )


async def create_smoke_video(marker: str) -> str:
    """Insert the auth user, creator and video a smoke run needs; return the video id."""
    async with await _connect() as conn:
        row = await (
            await conn.execute(
                """
                with u as (insert into auth.users (email) values (%(email)s) returning id),
                c as (insert into public.creators (user_id, display_name)
                      select id, %(name)s from u returning id)
                insert into public.videos (creator_id, title, storage_key, status)
                select id, %(name)s, %(name)s, 'processing' from c returning id
                """,
                {"email": smoke_email(marker), "name": marker},
            )
        ).fetchone()
    return str(row[0])


async def write_chunk(video_id: str, content: str) -> str:
    """Insert chunk 0 of `video_id` with the embedding of `content`; return the chunk id."""
    async with await _connect() as conn:
        row = await (
            await conn.execute(
                """
                insert into public.video_chunks
                  (video_id, chunk_index, content, start_seconds, end_seconds, token_count,
                   embedding)
                values (%s, 0, %s, 0, 1, 1, %s::extensions.vector)
                on conflict (video_id, chunk_index) do update set content = excluded.content
                returning id
                """,
                (video_id, content, embedding_for(content)),
            )
        ).fetchone()
    return str(row[0])


async def nearest_distance(chunk_id: str, content: str) -> float:
    """Cosine distance between the stored embedding and the embedding of `content` (0 = same)."""
    async with await _connect() as conn:
        row = await (
            await conn.execute(
                "select embedding operator(extensions.<=>) %s::extensions.vector "
                "from public.video_chunks where id = %s",
                (embedding_for(content), chunk_id),
            )
        ).fetchone()
    if row is None:
        raise RuntimeError(f"process-video: chunk {chunk_id} is gone before its check")
    return float(row[0])


async def delete_smoke_rows(marker: str) -> int:
    """Delete the smoke run's auth user (creator, video and chunks cascade); rows deleted."""
    async with await _connect() as conn:
        cur = await conn.execute(
            "delete from auth.users where email = %s", (smoke_email(require_marker(marker)),)
        )
    return int(cur.rowcount)


async def mark_video(video_id: str, status: str) -> None:
    """Set a real video's processing status (`processing`, `ready`, `failed`)."""
    async with await _connect() as conn:
        await conn.execute("update public.videos set status = %s where id = %s", (status, video_id))
