-- The API roles every Supabase database has (PostgREST switches into them). Cluster-wide,
-- so a database's dump does not hold them: scripts/backup.sh puts this file at the head of
-- local backups, and `knitter migrate` runs it before supabase_shim.sql. Idempotent.

do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  -- Not Supabase's: the API's writer role, made by a migration; listed here so that a
  -- restored backup finds it.
  if not exists (select from pg_roles where rolname = 'knitter_api') then
    create role knitter_api nologin inherit;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
grant authenticated to knitter_api;
