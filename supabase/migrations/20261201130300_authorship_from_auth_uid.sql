-- Who wrote a row is the database's to say: whenever a request carries a user (auth.uid()),
-- the authorship column is set from it on insert and kept on update, whatever the client
-- sent. Without a user (the service role's jobs) the given value stands.
create function private.set_author()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  uid uuid := (select auth.uid());
  col text := tg_argv[0];
begin
  if uid is null then
    return new;
  end if;
  if tg_op = 'INSERT' then
    new := jsonb_populate_record(new, jsonb_build_object(col, uid));
  else
    new := jsonb_populate_record(new, jsonb_build_object(col, to_jsonb(old) -> col));
  end if;
  return new;
end
$$;
revoke all on function private.set_author() from public;

create trigger sources_set_author
  before insert or update of created_by on public.sources
  for each row execute function private.set_author('created_by');
create trigger import_jobs_set_author
  before insert or update of user_id on public.import_jobs
  for each row execute function private.set_author('user_id');
create trigger micro_threads_set_author
  before insert or update of user_id on public.micro_threads
  for each row execute function private.set_author('user_id');
create trigger search_history_set_author
  before insert or update of user_id on public.search_history
  for each row execute function private.set_author('user_id');
