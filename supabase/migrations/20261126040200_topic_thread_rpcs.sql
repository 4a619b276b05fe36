-- Topic threads through RPC: the thread explorer lists them with their stats, shows one
-- thread's conversations, and merges, splits and renames them. Security invoker: RLS
-- decides what a caller sees; changes need the editor role, checked up front so a viewer
-- gets an error rather than a silent no-op.

create function public.list_topic_threads(workspace_id uuid default null, thread_id uuid default null)
returns table (
  id uuid,
  workspace_id uuid,
  title text,
  title_source text,
  conversations bigint,
  passages bigint,
  platforms text[],
  first_activity timestamptz,
  last_activity timestamptz,
  summary text,
  key_topics text[],
  summary_model text,
  summarized_at timestamptz
)
language sql stable
set search_path = ''
as $$
  select t.id, t.workspace_id, t.title, t.title_source,
         count(distinct s.id), count(c.id),
         array_agg(distinct s.platform order by s.platform),
         least(min(c.created_at), min(coalesce(s.started_at, s.imported_at))),
         greatest(max(c.created_at), max(coalesce(s.started_at, s.imported_at))),
         t.summary, t.key_topics, t.summary_model, t.summarized_at
  from public.topic_threads t
  join public.sources s on s.thread_id = t.id
  left join public.chunks c on c.source_id = s.id
  where (list_topic_threads.workspace_id is null or t.workspace_id = list_topic_threads.workspace_id)
    and (list_topic_threads.thread_id is null or t.id = list_topic_threads.thread_id)
  group by t.id
  order by 9 desc nulls last, t.id
$$;

comment on function public.list_topic_threads is
  'The caller''s topic threads (or one of them) with their stats, latest activity first.';

create function public.topic_thread_sources(thread_id uuid)
returns table (
  id uuid,
  workspace_id uuid,
  kind text,
  platform text,
  title text,
  url text,
  started_at timestamptz,
  imported_at timestamptz,
  passages bigint,
  summary text,
  key_topics text[]
)
language sql stable
set search_path = ''
as $$
  select s.id, s.workspace_id, s.kind, s.platform, s.title, s.url, s.started_at,
         s.imported_at, (select count(*) from public.chunks c where c.source_id = s.id),
         s.summary, s.key_topics
  from public.sources s
  where s.thread_id = topic_thread_sources.thread_id
  order by coalesce(s.started_at, s.imported_at) desc, s.id
$$;

comment on function public.topic_thread_sources is
  'The conversations of one topic thread, newest first.';

-- The thread, if the caller may change it; errors otherwise.
create function private.editable_thread(thread_id uuid)
returns public.topic_threads
language plpgsql stable
set search_path = ''
as $$
declare
  found_thread public.topic_threads;
begin
  select * into found_thread from public.topic_threads t where t.id = editable_thread.thread_id;
  if not found then
    raise exception 'no such topic thread' using errcode = 'PT404';
  end if;
  if found_thread.workspace_id not in (select private.workspace_ids_for('editor')) then
    raise exception 'only editors can change topic threads' using errcode = '42501';
  end if;
  return found_thread;
end
$$;
revoke all on function private.editable_thread(uuid) from public;
grant execute on function private.editable_thread(uuid) to authenticated, service_role;

create function public.merge_topic_threads(thread_ids uuid[])
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
  update public.topic_threads t set title_source = 'pending'
  where t.id = target.id and t.title_source <> 'user';
  return target.id;
end
$$;

comment on function public.merge_topic_threads is
  'Moves every conversation of the other threads into the first one; returns its id.';

create function public.split_topic_thread(thread_id uuid, source_ids uuid[], title text default null)
returns uuid
language plpgsql volatile
set search_path = ''
as $$
declare
  old_thread public.topic_threads := private.editable_thread(split_topic_thread.thread_id);
  moving integer;
  members integer;
  new_id uuid;
  new_title text := nullif(btrim(split_topic_thread.title), '');
begin
  select count(*) filter (where s.id = any (source_ids)), count(*) into moving, members
  from public.sources s where s.thread_id = old_thread.id;
  if moving = 0 or moving <> cardinality(array(select distinct unnest(source_ids))) then
    raise exception 'the conversations to split off must all be in the thread' using errcode = '22023';
  end if;
  if moving = members then
    raise exception 'a split must leave at least one conversation in the thread' using errcode = '22023';
  end if;
  insert into public.topic_threads (workspace_id, title, title_source)
  values (old_thread.workspace_id, coalesce(left(new_title, 200), ''),
          case when new_title is null then 'pending' else 'user' end)
  returning id into new_id;
  update public.sources s set thread_id = new_id
  where s.thread_id = old_thread.id and s.id = any (source_ids);
  perform private.refresh_thread_centroids(array[old_thread.id, new_id]);
  update public.topic_threads t set title_source = 'pending'
  where t.id = old_thread.id and t.title_source <> 'user';
  return new_id;
end
$$;

comment on function public.split_topic_thread is
  'Moves some of a thread''s conversations into a new thread (titled, or titled later by the API); returns its id.';

create function public.rename_topic_thread(thread_id uuid, title text)
returns boolean
language plpgsql volatile
set search_path = ''
as $$
declare
  new_title text := left(btrim(coalesce(rename_topic_thread.title, '')), 200);
begin
  perform private.editable_thread(rename_topic_thread.thread_id);
  -- An empty title hands the thread back to automatic titles.
  update public.topic_threads t
  set title = new_title,
      title_source = case when new_title = '' then 'pending' else 'user' end,
      updated_at = now()
  where t.id = rename_topic_thread.thread_id;
  return true;
end
$$;

comment on function public.rename_topic_thread is
  'Sets a thread''s title by hand; an empty title lets knitter title it again.';

create function public.topic_thread_settings(workspace_id uuid)
returns table (similarity real, unthreaded bigint)
language sql stable
set search_path = ''
as $$
  select w.thread_similarity,
         (select count(*) from public.sources s
          where s.workspace_id = w.id and s.thread_id is null)
  from public.workspaces w
  where w.id = topic_thread_settings.workspace_id
$$;

comment on function public.topic_thread_settings is
  'A workspace''s grouping threshold and how many conversations are in no thread yet.';

-- Security definer: editors choose how their workspace is grouped, while the workspaces
-- table itself stays writable by owners only.
create function public.set_thread_similarity(workspace_id uuid, similarity double precision)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if set_thread_similarity.workspace_id not in (select private.workspace_ids_for('editor')) then
    raise exception 'only editors can change how threads are grouped' using errcode = '42501';
  end if;
  update public.workspaces w set thread_similarity = set_thread_similarity.similarity
  where w.id = set_thread_similarity.workspace_id;
  return true;
end
$$;

comment on function public.set_thread_similarity is
  'Sets the similarity (0.05-0.95) conversations need to share a thread; editors only.';

create function public.source_details(source_id uuid)
returns table (
  summary text,
  key_topics text[],
  summary_model text,
  summarized_at timestamptz,
  thread_id uuid,
  thread_title text
)
language sql stable
set search_path = ''
as $$
  select s.summary, s.key_topics, s.summary_model, s.summarized_at, t.id, t.title
  from public.sources s
  left join public.topic_threads t on t.id = s.thread_id
  where s.id = source_details.source_id
$$;

comment on function public.source_details is
  'A conversation''s summary, key topics and topic thread.';

revoke all on function public.list_topic_threads(uuid, uuid) from public, anon;
revoke all on function public.topic_thread_sources(uuid) from public, anon;
revoke all on function public.merge_topic_threads(uuid[]) from public, anon;
revoke all on function public.split_topic_thread(uuid, uuid[], text) from public, anon;
revoke all on function public.rename_topic_thread(uuid, text) from public, anon;
grant execute on function public.list_topic_threads(uuid, uuid) to authenticated, service_role;
grant execute on function public.topic_thread_sources(uuid) to authenticated, service_role;
grant execute on function public.merge_topic_threads(uuid[]) to authenticated, service_role;
grant execute on function public.split_topic_thread(uuid, uuid[], text)
  to authenticated, service_role;
grant execute on function public.rename_topic_thread(uuid, text) to authenticated, service_role;
revoke all on function public.topic_thread_settings(uuid) from public, anon;
revoke all on function public.source_details(uuid) from public, anon;
grant execute on function public.topic_thread_settings(uuid) to authenticated, service_role;
grant execute on function public.source_details(uuid) to authenticated, service_role;
revoke all on function public.set_thread_similarity(uuid, double precision) from public, anon;
grant execute on function public.set_thread_similarity(uuid, double precision) to authenticated, service_role;
