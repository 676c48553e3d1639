-- Row level security on every table. Identity is auth.uid() (the JWT's sub); a row's owner is
-- the creator or student whose user_id that is. service_role (the server key) bypasses RLS;
-- anon gets no privilege on any table at all.

-- Who is asking, as definer so that policies on creators and students can refer to each other
-- without recursing through each other's RLS. search_path is empty: every name is qualified.
create or replace function private.current_creator_id() returns uuid
  language sql stable security definer set search_path = ''
  as $$ select id from public.creators where user_id = auth.uid() $$;

create or replace function private.current_student_id() returns uuid
  language sql stable security definer set search_path = ''
  as $$ select id from public.students where user_id = auth.uid() $$;

-- The creator whose community the asking student belongs to.
create or replace function private.current_student_creator_id() returns uuid
  language sql stable security definer set search_path = ''
  as $$ select creator_id from public.students where user_id = auth.uid() $$;

revoke all on all functions in schema private from public;
grant execute on function private.current_creator_id(), private.current_student_id(),
  private.current_student_creator_id() to authenticated, service_role;

alter table public.creators enable row level security;
alter table public.students enable row level security;
alter table public.videos enable row level security;
alter table public.video_chunks enable row level security;
alter table public.chat_sessions enable row level security;
alter table public.chat_messages enable row level security;
alter table public.quizzes enable row level security;
alter table public.quiz_attempts enable row level security;
alter table public.projects enable row level security;
alter table public.project_submissions enable row level security;
alter table public.calendar_events enable row level security;
alter table public.video_progress enable row level security;
alter table public.study_groups enable row level security;
alter table public.achievements enable row level security;
alter table public.student_achievements enable row level security;

-- Profiles: your own; students see their community's creator, creators see their students.
create policy creators_own on public.creators for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy creators_visible_to_members on public.creators for select to authenticated
  using (id = (select private.current_student_creator_id()));
create policy students_select_own on public.students for select to authenticated
  using (user_id = (select auth.uid()));
create policy students_update_own on public.students for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy students_visible_to_creator on public.students for select to authenticated
  using (creator_id = (select private.current_creator_id()));

-- Creator content: the owner does everything; published content is readable when signed in.
create policy videos_owner on public.videos for all to authenticated
  using (creator_id = (select private.current_creator_id()))
  with check (creator_id = (select private.current_creator_id()));
create policy videos_published on public.videos for select to authenticated using (published);

-- A chunk is visible exactly when its video is (the subquery runs under videos' RLS).
create policy video_chunks_visible on public.video_chunks for select to authenticated
  using (video_id in (select id from public.videos));
create policy video_chunks_owner on public.video_chunks for all to authenticated
  using (video_id in (select id from public.videos
                      where creator_id = (select private.current_creator_id())))
  with check (video_id in (select id from public.videos
                           where creator_id = (select private.current_creator_id())));

create policy quizzes_owner on public.quizzes for all to authenticated
  using (creator_id = (select private.current_creator_id()))
  with check (creator_id = (select private.current_creator_id()));
create policy quizzes_published on public.quizzes for select to authenticated using (published);

create policy projects_owner on public.projects for all to authenticated
  using (creator_id = (select private.current_creator_id()))
  with check (creator_id = (select private.current_creator_id()));
create policy projects_published on public.projects for select to authenticated using (published);

create policy study_groups_owner on public.study_groups for all to authenticated
  using (creator_id = (select private.current_creator_id()))
  with check (creator_id = (select private.current_creator_id()));
create policy study_groups_community on public.study_groups for select to authenticated
  using (creator_id = (select private.current_student_creator_id()));

-- Student activity: the student's own rows; the creator reads (and reviews) what concerns them.
create policy chat_sessions_own on public.chat_sessions for all to authenticated
  using (student_id = (select private.current_student_id()))
  with check (student_id = (select private.current_student_id()));
create policy chat_messages_own on public.chat_messages for all to authenticated
  using (session_id in (select id from public.chat_sessions
                        where student_id = (select private.current_student_id())))
  with check (session_id in (select id from public.chat_sessions
                             where student_id = (select private.current_student_id())));

create policy quiz_attempts_own on public.quiz_attempts for all to authenticated
  using (student_id = (select private.current_student_id()))
  -- Only quizzes the student can see (published ones); the subquery runs under quizzes' RLS.
  with check (student_id = (select private.current_student_id())
              and quiz_id in (select id from public.quizzes));
create policy quiz_attempts_creator on public.quiz_attempts for select to authenticated
  using (quiz_id in (select id from public.quizzes
                     where creator_id = (select private.current_creator_id())));

create policy project_submissions_own on public.project_submissions for all to authenticated
  using (student_id = (select private.current_student_id()))
  with check (student_id = (select private.current_student_id())
              and project_id in (select id from public.projects));
create policy project_submissions_creator_read on public.project_submissions for select
  to authenticated
  using (project_id in (select id from public.projects
                        where creator_id = (select private.current_creator_id())));
create policy project_submissions_creator_review on public.project_submissions for update
  to authenticated
  using (project_id in (select id from public.projects
                        where creator_id = (select private.current_creator_id())))
  with check (project_id in (select id from public.projects
                             where creator_id = (select private.current_creator_id())));

create policy calendar_events_own on public.calendar_events for all to authenticated
  using (student_id = (select private.current_student_id()))
  with check (student_id = (select private.current_student_id()));
create policy video_progress_own on public.video_progress for all to authenticated
  using (student_id = (select private.current_student_id()))
  with check (student_id = (select private.current_student_id()));

-- Achievements are awarded by the server; students read their own, everyone the catalogue.
create policy student_achievements_own on public.student_achievements for select
  to authenticated using (student_id = (select private.current_student_id()));
create policy achievements_catalogue on public.achievements for select to authenticated
  using (true);

-- Table privileges sit under RLS: they decide which statements a role may run at all.
revoke all on all tables in schema public from anon;
-- Tables of later migrations stay closed to anon unless a migration grants access on purpose.
alter default privileges in schema public revoke all on tables from anon;
grant all on all tables in schema public to service_role;
grant select, insert, update, delete on all tables in schema public to authenticated;
-- Server-owned facts (membership, XP, billing plan, awards, the catalogue) are written by the
-- server only; signed-in users may change just their profile fields.
revoke insert, update, delete on public.creators, public.students, public.achievements,
  public.student_achievements from authenticated;
grant insert (user_id, display_name, bio, avatar_url),
  update (display_name, bio, avatar_url) on public.creators to authenticated;
grant update (display_name) on public.students to authenticated;
