-- TRUNCATE ignores row-level security, a trigger created by an API role could run as the
-- table's owner inside someone else's transaction, and REFERENCES lets a role pin rows it
-- cannot see. Supabase's default privileges grant all three on every new table in public;
-- no API role needs any of them. Sequences behind identity columns need no grant to insert.
revoke truncate, trigger, references on all tables in schema public
  from anon, authenticated, service_role;
revoke all on all sequences in schema public from anon, authenticated;

-- The same for tables and sequences created later by the role that applies the migrations;
-- new tables also start with nothing for anonymous callers.
alter default privileges in schema public
  revoke truncate, trigger, references on tables from anon, authenticated, service_role;
alter default privileges in schema public revoke all on tables from anon;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
