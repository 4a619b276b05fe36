-- The trim of 20261202080200 re-ran its "oldest kept" subquery (a sort of the user's
-- history) for every row it compared: once a user had 1,000 queries, each search spent
-- ~0.7 s of database time trimming one row. Now the cut-off is found once per user, by
-- an index-only scan of the user's newest 1,000 entries, and only older rows are read.
set local lock_timeout = '5s';

-- A migration runs in a transaction, where neither can be concurrent; the table holds at
-- most 1,000 short rows a user, so the lock is brief.
-- squawk-ignore require-concurrent-index-creation
create index search_history_user_id_newest_idx
  on public.search_history (user_id, created_at desc, id desc);
-- squawk-ignore require-concurrent-index-deletion
drop index public.search_history_user_id_created_at_idx;

create or replace function private.trim_search_history()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  owner uuid;
  kept_at timestamptz;
  kept_id bigint;
begin
  for owner in select distinct n.user_id from new_rows n loop
    select k.created_at, k.id into kept_at, kept_id
    from public.search_history k
    where k.user_id = owner
    order by k.created_at desc, k.id desc
    offset 999 limit 1;
    if found then
      delete from public.search_history h
      where h.user_id = owner
        and h.created_at <= kept_at
        and (h.created_at, h.id) < (kept_at, kept_id);
    end if;
  end loop;
  return null;
end
$$;
