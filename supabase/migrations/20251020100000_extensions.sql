-- pgvector for lesson embeddings. Supabase keeps extensions in the `extensions` schema (the local
-- shim creates it too); tables name the type as extensions.vector so no search_path is assumed.
create extension if not exists vector with schema extensions;

-- Helpers used by RLS policies live outside `public`, so the API does not expose them as RPCs.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- Keeps updated_at honest on every table.
create or replace function private.set_updated_at() returns trigger
  language plpgsql
  set search_path = ''
  as $$
  begin
    new.updated_at = now();
    return new;
  end
  $$;
