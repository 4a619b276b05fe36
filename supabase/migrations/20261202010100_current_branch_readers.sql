-- The conversation as the person last saw it: other versions of its messages (chunks whose
-- metadata has `alternative_of`, kept by the importers) are left out of what reads a
-- conversation in order (the conversation view, packs, MCP) and of a conversation's
-- centroid (topic threads). public.source_alternatives gives the versions.

create or replace function public.source_passages(source_id uuid)
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
    and not c.metadata ? 'alternative_of'
  order by c.message_index, c.chunk_index
$$;

comment on function public.source_passages is
  'A source''s passages in reading order, on the branch the person last saw: the '
  'conversation view (other versions: source_alternatives).';

create or replace function private.source_centroids(source_ids uuid[])
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
    and not c.metadata ? 'alternative_of'
  group by s.id, w.embedding_model_id
$$;
