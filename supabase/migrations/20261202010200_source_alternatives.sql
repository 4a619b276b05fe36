-- The other versions of a conversation's messages (edits, regenerations and what followed
-- them), for the conversation view's "< 2/3 >" control. Security invoker: RLS decides.
create function public.source_alternatives(source_id uuid)
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
  where c.source_id = source_alternatives.source_id
    and c.metadata ? 'alternative_of'
  order by c.message_index, c.chunk_index
$$;

comment on function public.source_alternatives is
  'Other versions of a source''s messages, in order: metadata.alternative_of is the '
  'message_index each is a version of, metadata.branch groups a version with what '
  'followed it, metadata.version and versions number it.';

revoke all on function public.source_alternatives(uuid) from public, anon;
grant execute on function public.source_alternatives(uuid) to authenticated, service_role;
