-- Merging keeps the first thread's title, as the web app promises: the merged thread was
-- marked for retitling, so it showed "Untitled thread" until the next retitle, which then
-- replaced the title. The rest of the function is unchanged.
create or replace function public.merge_topic_threads(thread_ids uuid[])
returns uuid
language plpgsql volatile
set search_path = ''
as $$
declare
  target public.topic_threads;
  other uuid;
begin
  if cardinality(array(select distinct unnest(thread_ids))) < 2 then
    raise exception 'merging needs at least two different threads' using errcode = '22023';
  end if;
  target := private.editable_thread(thread_ids[1]);
  foreach other in array thread_ids[2:] loop
    if (private.editable_thread(other)).workspace_id <> target.workspace_id then
      raise exception 'threads of different workspaces cannot be merged' using errcode = '22023';
    end if;
  end loop;
  -- The emptied threads are dropped by the sources trigger.
  update public.sources s set thread_id = target.id
  where s.thread_id = any (thread_ids) and s.thread_id <> target.id;
  perform private.refresh_thread_centroids(array[target.id]);
  return target.id;
end
$$;

comment on function public.merge_topic_threads is
  'Moves every conversation of the other threads into the first one, which keeps its '
  'title; returns its id.';
