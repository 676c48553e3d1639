-- Local stand-in for what every Supabase project pre-creates, so the files of
-- supabase/migrations/ run unchanged on the local Postgres. Idempotent: safe to re-run.
-- Executed by the local Postgres provider as superuser, connected to the app database,
-- right after the database is created and before any migration.

-- API roles, with Supabase's attributes: nobody logs in as them; the API (and the app role)
-- switches to them with SET ROLE. service_role is the server key: it bypasses RLS.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;
-- Converge roles that existed with other attributes.
alter role anon nologin noinherit nobypassrls;
alter role authenticated nologin noinherit nobypassrls;
alter role service_role nologin noinherit bypassrls;

create schema if not exists extensions;
create schema if not exists auth;
grant usage on schema public to anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
grant usage on schema auth to anon, authenticated, service_role;

-- Supabase's search path, so unqualified vector types and operators (<=>) resolve in new sessions.
do $$
begin
  execute format('alter database %I set search_path = "$user", public, extensions',
                 current_database());
end
$$;

-- Supabase's default privileges for objects the migration role creates in public: the API roles
-- get them and RLS decides the rows. Migrations may revoke (ours revoke everything from anon).
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences
  to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions
  to anon, authenticated, service_role;

-- The part of GoTrue's users table that foreign keys and tests need.
create table if not exists auth.users (
  id uuid primary key default gen_random_uuid(),
  email text unique,
  created_at timestamptz default now()
);
grant all on auth.users to service_role;

-- GoTrue's helpers as of its migration 20240624145325_recreate_auth_functions: identity comes
-- from the request's JWT claims, which PostgREST sets per transaction.
create or replace function auth.uid() returns uuid
  set search_path to ''
  as $$
    select
      coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
  $$ language sql stable;

create or replace function auth.role() returns text
  set search_path to ''
  as $$
    select
      coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
  $$ language sql stable;

create or replace function auth.jwt() returns jsonb
  set search_path to ''
  as $$
    select
      coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
  $$ language sql stable;

grant execute on function auth.uid(), auth.role(), auth.jwt()
  to anon, authenticated, service_role;
