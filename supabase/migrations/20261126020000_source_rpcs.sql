-- Reading and deleting sources through RPC, as the clients do (supabase.rpc(...)): a
-- small, documented surface instead of table queries. Security invoker: RLS decides.

create function public.list_sources(
  workspace_id uuid default null,
  max_rows integer default 50,
  skip_rows integer default 0
)
returns table (
  id uuid,
  workspace_id uuid,
  kind text,
  platform text,
  title text,
  url text,
  started_at timestamptz,
  imported_at timestamptz,
  passages bigint
)
language sql stable
set search_path = ''
as $$
  select s.id, s.workspace_id, s.kind, s.platform, s.title, s.url, s.started_at,
         s.imported_at, (select count(*) from public.chunks c where c.source_id = s.id)
  from public.sources s
  where list_sources.workspace_id is null or s.workspace_id = list_sources.workspace_id
  order by coalesce(s.started_at, s.imported_at) desc, s.id
  limit least(greatest(max_rows, 1), 200) offset greatest(skip_rows, 0)
$$;

comment on function public.list_sources is
  'The caller''s sources, newest first, with their passage counts (max_rows at most 200).';

create function public.source_passages(source_id uuid)
returns table (
  chunk_id bigint,
  message_index integer,
  chunk_index integer,
  role text,
  author text,
  model text,
  created_at timestamptz,
  content text,
  metadata jsonb
)
language sql stable
set search_path = ''
as $$
  select c.id, c.message_index, c.chunk_index, c.role, c.author, c.model, c.created_at,
         c.content, c.metadata
  from public.chunks c
  where c.source_id = source_passages.source_id
  order by c.message_index, c.chunk_index
$$;

comment on function public.source_passages is
  'A source''s passages in reading order: the conversation view.';

create function public.delete_source(source_id uuid)
returns boolean
language sql volatile
set search_path = ''
as $$
  with gone as (
    delete from public.sources s where s.id = delete_source.source_id returning 1
  )
  select exists (select from gone)
$$;

comment on function public.delete_source is
  'Deletes a source with its passages and embeddings; false if the caller cannot.';

revoke all on function public.list_sources(uuid, integer, integer) from public, anon;
revoke all on function public.source_passages(uuid) from public, anon;
revoke all on function public.delete_source(uuid) from public, anon;
grant execute on function public.list_sources(uuid, integer, integer) to authenticated, service_role;
grant execute on function public.source_passages(uuid) to authenticated, service_role;
grant execute on function public.delete_source(uuid) to authenticated, service_role;
