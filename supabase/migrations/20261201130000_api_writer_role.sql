-- knitter_api: the role the Python API switches into (with the user's JWT claims, like
-- PostgREST) for the writes whose invariants only the API can check: passages within the
-- upload limits, import job states, answers written by models, summaries. It is a member
-- of `authenticated`, so every policy for `authenticated` applies to it and RLS still
-- decides whose rows it touches; it is never granted to `authenticator`, so no JWT can
-- make PostgREST run as it. Cluster-wide, hence created only when missing.
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'knitter_api') then
    create role knitter_api nologin inherit;
  end if;
end
$$;

grant authenticated to knitter_api;
-- The role that applies the migrations (postgres on Supabase) is the one the API connects as.
grant knitter_api to current_user;
