-- Learning activity: AI chat, quizzes, projects, schedule, progress, study groups, achievements.

create table public.chat_sessions (
  id uuid primary key default gen_random_uuid(),
  student_id uuid not null references public.students (id) on delete cascade,
  video_id uuid references public.videos (id) on delete set null,
  title text check (char_length(title) <= 200),
  last_message_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.chat_messages (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null references public.chat_sessions (id) on delete cascade,
  role text not null check (role in ('user', 'assistant', 'system')),
  content text not null,
  -- video_chunks the answer cites (a snapshot: chunks may be re-generated later).
  cited_chunk_ids uuid[] not null default '{}',
  model text,
  token_count integer check (token_count >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.quizzes (
  id uuid primary key default gen_random_uuid(),
  creator_id uuid not null references public.creators (id) on delete cascade,
  video_id uuid references public.videos (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 300),
  questions jsonb not null default '[]'::jsonb check (jsonb_typeof(questions) = 'array'),
  passing_score integer not null default 70 check (passing_score between 0 and 100),
  time_limit_seconds integer check (time_limit_seconds > 0),
  published boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.quiz_attempts (
  id uuid primary key default gen_random_uuid(),
  quiz_id uuid not null references public.quizzes (id) on delete cascade,
  student_id uuid not null references public.students (id) on delete cascade,
  answers jsonb not null default '{}'::jsonb check (jsonb_typeof(answers) = 'object'),
  score integer check (score between 0 and 100),
  passed boolean,
  started_at timestamptz not null default now(),
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (completed_at is null or completed_at >= started_at),
  -- A completed attempt has a score and a verdict.
  check (completed_at is null or (score is not null and passed is not null))
);

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  creator_id uuid not null references public.creators (id) on delete cascade,
  video_id uuid references public.videos (id) on delete set null,
  title text not null check (char_length(title) between 1 and 300),
  brief text not null,
  rubric jsonb not null default '[]'::jsonb check (jsonb_typeof(rubric) = 'array'),
  due_days integer check (due_days > 0),
  published boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.project_submissions (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  student_id uuid not null references public.students (id) on delete cascade,
  submission_url text,
  notes text,
  status text not null default 'submitted'
    check (status in ('draft', 'submitted', 'reviewed')),
  ai_feedback text,
  feedback text,
  score integer check (score between 0 and 100),
  submitted_at timestamptz,
  reviewed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, student_id),
  check (status <> 'reviewed' or reviewed_at is not null)
);

create table public.calendar_events (
  id uuid primary key default gen_random_uuid(),
  student_id uuid not null references public.students (id) on delete cascade,
  video_id uuid references public.videos (id) on delete cascade,
  quiz_id uuid references public.quizzes (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 300),
  kind text not null default 'lesson' check (kind in ('lesson', 'quiz', 'project', 'review')),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  completed boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (ends_at > starts_at)
);

create table public.video_progress (
  id uuid primary key default gen_random_uuid(),
  student_id uuid not null references public.students (id) on delete cascade,
  video_id uuid not null references public.videos (id) on delete cascade,
  watched_seconds integer not null default 0 check (watched_seconds >= 0),
  last_position_seconds integer not null default 0 check (last_position_seconds >= 0),
  completed boolean not null default false,
  completed_at timestamptz,
  last_watched_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (student_id, video_id)
);

create table public.study_groups (
  id uuid primary key default gen_random_uuid(),
  creator_id uuid not null references public.creators (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 120),
  description text,
  -- students.id of the members; the server (service_role) keeps it within max_members.
  member_ids uuid[] not null default '{}',
  max_members integer not null default 8 check (max_members between 2 and 100),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (cardinality(member_ids) <= max_members)
);

create table public.achievements (
  id uuid primary key default gen_random_uuid(),
  code text not null unique check (code ~ '^[a-z0-9_]{1,64}$'),
  name text not null check (char_length(name) between 1 and 120),
  description text not null,
  icon text,
  xp_reward integer not null default 0 check (xp_reward >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.student_achievements (
  id uuid primary key default gen_random_uuid(),
  student_id uuid not null references public.students (id) on delete cascade,
  achievement_id uuid not null references public.achievements (id) on delete restrict,
  earned_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (student_id, achievement_id)
);

create trigger chat_sessions_set_updated_at before update on public.chat_sessions
  for each row execute function private.set_updated_at();
create trigger chat_messages_set_updated_at before update on public.chat_messages
  for each row execute function private.set_updated_at();
create trigger quizzes_set_updated_at before update on public.quizzes
  for each row execute function private.set_updated_at();
create trigger quiz_attempts_set_updated_at before update on public.quiz_attempts
  for each row execute function private.set_updated_at();
create trigger projects_set_updated_at before update on public.projects
  for each row execute function private.set_updated_at();
create trigger project_submissions_set_updated_at before update on public.project_submissions
  for each row execute function private.set_updated_at();
create trigger calendar_events_set_updated_at before update on public.calendar_events
  for each row execute function private.set_updated_at();
create trigger video_progress_set_updated_at before update on public.video_progress
  for each row execute function private.set_updated_at();
create trigger study_groups_set_updated_at before update on public.study_groups
  for each row execute function private.set_updated_at();
create trigger achievements_set_updated_at before update on public.achievements
  for each row execute function private.set_updated_at();
create trigger student_achievements_set_updated_at before update on public.student_achievements
  for each row execute function private.set_updated_at();
