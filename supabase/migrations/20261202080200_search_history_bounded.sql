-- Search history took any number of rows: on Supabase PostgREST serves the table, and a
-- guest could POST arrays of thousands of 1000-character queries, again and again, into
-- storage nobody bounds. Each user keeps their newest 1000 queries (what suggestions and
-- the history page use); older ones go in the statement that adds new ones.
set local lock_timeout = '5s';

create function private.trim_search_history()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  delete from public.search_history h
  using (
    select u.user_id, (
      select k.id from public.search_history k
      where k.user_id = u.user_id
      order by k.created_at desc, k.id desc
      offset 999 limit 1
    ) as oldest_kept
    from (select distinct n.user_id from new_rows n) u
  ) b
  where h.user_id = b.user_id
    and b.oldest_kept is not null
    and (h.created_at, h.id) < (
      select k.created_at, k.id from public.search_history k where k.id = b.oldest_kept
    );
  return null;
end
$$;
revoke all on function private.trim_search_history() from public;

create trigger search_history_trim
  after insert on public.search_history
  referencing new table as new_rows
  for each statement execute function private.trim_search_history();
