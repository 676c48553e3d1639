-- People and content: creators publish videos, students (members of a creator's community)
-- learn from them; videos are cut into embedded chunks for retrieval-augmented chat.

create table public.creators (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null unique references auth.users (id) on delete cascade,
  display_name text not null check (char_length(display_name) between 1 and 120),
  bio text check (char_length(bio) <= 2000),
  avatar_url text,
  whop_company_id text unique,
  plan text not null default 'free' check (plan in ('free', 'pro', 'enterprise')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.students (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null unique references auth.users (id) on delete cascade,
  creator_id uuid not null references public.creators (id) on delete cascade,
  display_name text not null check (char_length(display_name) between 1 and 120),
  whop_membership_id text unique,
  xp integer not null default 0 check (xp >= 0),
  streak_days integer not null default 0 check (streak_days >= 0),
  last_active_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.videos (
  id uuid primary key default gen_random_uuid(),
  creator_id uuid not null references public.creators (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 300),
  description text,
  storage_key text not null unique,
  thumbnail_key text,
  duration_seconds integer check (duration_seconds > 0),
  status text not null default 'uploaded'
    check (status in ('uploaded', 'processing', 'ready', 'failed')),
  processing_error text,
  published boolean not null default false,
  published_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Only processed videos can be published.
  check (not published or status = 'ready')
);

create table public.video_chunks (
  id uuid primary key default gen_random_uuid(),
  video_id uuid not null references public.videos (id) on delete cascade,
  chunk_index integer not null check (chunk_index >= 0),
  content text not null check (char_length(content) > 0),
  start_seconds numeric(10, 3) not null check (start_seconds >= 0),
  end_seconds numeric(10, 3) not null,
  token_count integer check (token_count >= 0),
  embedding extensions.vector(1536),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (video_id, chunk_index),
  check (end_seconds >= start_seconds)
);

create trigger creators_set_updated_at before update on public.creators
  for each row execute function private.set_updated_at();
create trigger students_set_updated_at before update on public.students
  for each row execute function private.set_updated_at();
create trigger videos_set_updated_at before update on public.videos
  for each row execute function private.set_updated_at();
create trigger video_chunks_set_updated_at before update on public.video_chunks
  for each row execute function private.set_updated_at();
