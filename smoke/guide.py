"""Facts the smoke suite checks, taken from the backend infrastructure guide.

>>> len(GUIDE_TABLES), len(GUIDE_FUNCTIONS)
(15, 5)
"""

from __future__ import annotations

# Phase 1.3 (scripts/test-database-connection.js): the 15 tables the migrations create.
GUIDE_TABLES: tuple[str, ...] = (
    "creators",
    "students",
    "videos",
    "video_chunks",
    "chat_sessions",
    "chat_messages",
    "quizzes",
    "quiz_attempts",
    "projects",
    "project_submissions",
    "calendar_events",
    "video_progress",
    "study_groups",
    "achievements",
    "student_achievements",
)

# Phase 3.2 (app/api/inngest/route.ts): the job functions the app serves, in the guide's order.
GUIDE_FUNCTIONS: tuple[str, ...] = (
    "process-video",
    "generate-quiz",
    "aggregate-daily-analytics",
    "check-content-health",
    "send-email",
)

# The pgvector embedding column the RAG chat relies on (Phase 1.3, test 2).
EMBEDDING_TABLE, EMBEDDING_COLUMN, EMBEDDING_DIMENSIONS = "video_chunks", "embedding", 1536
