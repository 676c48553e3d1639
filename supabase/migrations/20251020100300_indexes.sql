-- Every foreign key is the leading column of an index (unique constraints cover
-- students.user_id, creators.user_id, video_chunks.video_id, project_submissions.project_id,
-- video_progress.student_id and student_achievements.student_id); hot lookups get their own.

create index students_creator_id_idx on public.students (creator_id);
create index videos_creator_created_idx on public.videos (creator_id, created_at desc);
create index videos_published_idx on public.videos (published_at desc) where published;
create index videos_status_idx on public.videos (status) where status in ('uploaded', 'processing');

-- Nearest-neighbour search for RAG chat: cosine distance (embedding <=> query).
create index video_chunks_embedding_hnsw_idx on public.video_chunks
  using hnsw (embedding extensions.vector_cosine_ops);

create index chat_sessions_student_recent_idx
  on public.chat_sessions (student_id, last_message_at desc nulls last);
create index chat_sessions_video_id_idx on public.chat_sessions (video_id);
create index chat_messages_session_created_idx on public.chat_messages (session_id, created_at);
create index quizzes_creator_id_idx on public.quizzes (creator_id);
create index quizzes_video_id_idx on public.quizzes (video_id);
create index quiz_attempts_quiz_id_idx on public.quiz_attempts (quiz_id);
create index quiz_attempts_student_quiz_idx on public.quiz_attempts (student_id, quiz_id);
create index projects_creator_id_idx on public.projects (creator_id);
create index projects_video_id_idx on public.projects (video_id);
create index project_submissions_student_id_idx on public.project_submissions (student_id);
create index calendar_events_student_starts_idx on public.calendar_events (student_id, starts_at);
create index calendar_events_video_id_idx on public.calendar_events (video_id);
create index calendar_events_quiz_id_idx on public.calendar_events (quiz_id);
create index video_progress_video_id_idx on public.video_progress (video_id);
create index study_groups_creator_id_idx on public.study_groups (creator_id);
create index study_groups_member_ids_idx on public.study_groups using gin (member_ids);
create index student_achievements_achievement_id_idx
  on public.student_achievements (achievement_id);
