-- Topic threads: a workspace's conversations grouped by what they are about. The API
-- groups them by their embeddings (average-linkage clustering of conversation centroids,
-- api/topic_threads.py) and puts each newly embedded conversation in the nearest thread, or
-- a new one, by the workspace's similarity threshold. People merge, split and rename threads
-- by hand through the RPCs below. Each conversation is in at most one thread.
set local lock_timeout = '5s';

-- How alike conversations must be (cosine similarity of their centroids) to share a
-- thread: higher means more, narrower threads.
alter table public.workspaces
  add column thread_similarity real not null default 0.3
    check (thread_similarity between 0.05 and 0.95);

create table public.topic_threads (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  title text not null default '' check (char_length(title) <= 200),
  -- pending: to be (re)written by the API; terms: its distinctive words; llm: written by a
  -- chat model; user: set by hand, never overwritten.
  title_source text not null default 'pending'
    check (title_source in ('pending', 'terms', 'llm', 'user')),
  -- The normalised mean of its conversations' centroids under model_id, the workspace's
  -- model when it was computed. New conversations join the nearest thread.
  model_id integer references public.embedding_models (id) on delete set null,
  centroid extensions.vector,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint topic_threads_id_workspace_key unique (id, workspace_id)
);
create index topic_threads_workspace_id_idx on public.topic_threads (workspace_id);
create index topic_threads_model_id_idx on public.topic_threads (model_id);

-- The thread is in the source's own workspace; deleting it leaves the source unthreaded.
-- Validating the key scans sources (a row per conversation, the new column all null)
-- while writes to it wait: brief, and simpler than a second migration to validate.
alter table public.sources add column thread_id uuid;
alter table public.sources
  -- squawk-ignore adding-foreign-key-constraint, constraint-missing-not-valid
  add constraint sources_thread_fk foreign key (thread_id, workspace_id)
  references public.topic_threads (id, workspace_id) on delete set null (thread_id);
-- squawk-ignore require-concurrent-index-creation
create index sources_thread_id_idx on public.sources (thread_id);
-- What the API looks through for conversations still waiting for a thread.
-- squawk-ignore require-concurrent-index-creation
create index sources_unthreaded_idx on public.sources (workspace_id) where thread_id is null;

alter table public.topic_threads enable row level security;

create policy "members read threads"
  on public.topic_threads for select to authenticated
  using (workspace_id in (select private.workspace_ids_for('viewer')));
create policy "editors add threads"
  on public.topic_threads for insert to authenticated
  with check (workspace_id in (select private.workspace_ids_for('editor')));
create policy "editors change threads"
  on public.topic_threads for update to authenticated
  using (workspace_id in (select private.workspace_ids_for('editor')))
  with check (workspace_id in (select private.workspace_ids_for('editor')));
create policy "editors delete threads"
  on public.topic_threads for delete to authenticated
  using (workspace_id in (select private.workspace_ids_for('editor')));

revoke all on table public.topic_threads from anon;
grant select, insert, update, delete on table public.topic_threads to authenticated;

-- A thread left without conversations (moved away, deleted) goes too.
create function private.drop_empty_threads()
returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  delete from public.topic_threads t
  where t.id in (select o.thread_id from old_sources o where o.thread_id is not null)
    and not exists (select from public.sources s where s.thread_id = t.id);
  return null;
end
$$;
revoke all on function private.drop_empty_threads() from public;

create trigger sources_drop_empty_threads_after_update
  after update on public.sources
  referencing old table as old_sources
  for each statement execute function private.drop_empty_threads();
create trigger sources_drop_empty_threads_after_delete
  after delete on public.sources
  referencing old table as old_sources
  for each statement execute function private.drop_empty_threads();

-- Each source's centroid: the normalised mean of its passages' embeddings under its
-- workspace's model. Security invoker: callers see the centroids of what they can read.
create function private.source_centroids(source_ids uuid[])
returns table (source_id uuid, model_id integer, passages bigint, centroid extensions.vector)
language sql stable
set search_path = ''
as $$
  select s.id, w.embedding_model_id, count(*),
         extensions.l2_normalize(extensions.avg(e.embedding))
  from public.sources s
  join public.workspaces w on w.id = s.workspace_id
  join public.chunks c on c.source_id = s.id
  join public.chunk_embeddings e on e.chunk_id = c.id and e.model_id = w.embedding_model_id
  where s.id = any (source_centroids.source_ids)
  group by s.id, w.embedding_model_id
$$;
revoke all on function private.source_centroids(uuid[]) from public;
grant execute on function private.source_centroids(uuid[]) to authenticated, service_role;

-- Recomputes the centroids of the given threads from their conversations.
create function private.refresh_thread_centroids(thread_ids uuid[])
returns void
language sql volatile
set search_path = ''
as $$
  update public.topic_threads t
  set centroid = m.centroid, model_id = m.model_id, updated_at = now()
  from (
    select s.thread_id, min(c.model_id) as model_id,
           extensions.l2_normalize(extensions.avg(c.centroid)) as centroid
    from public.sources s
    cross join lateral private.source_centroids(array[s.id]) c
    where s.thread_id = any (refresh_thread_centroids.thread_ids)
    group by s.thread_id
  ) m
  where t.id = m.thread_id
$$;
revoke all on function private.refresh_thread_centroids(uuid[]) from public;
grant execute on function private.refresh_thread_centroids(uuid[]) to authenticated, service_role;
