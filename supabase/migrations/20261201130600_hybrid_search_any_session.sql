-- hybrid_search without function-level `set hnsw.*`. Such a setting is checked when the
-- function is created: before pgvector's library is loaded in the session the name is only
-- a placeholder, which a non-superuser (Supabase's postgres) may not attach, so a file that
-- (re)creates the function fails in a fresh session. The search itself becomes
-- private.hybrid_search, unchanged (same name:
-- its body refers to its arguments as hybrid_search.<name>); public.hybrid_search sets pgvector's iterative
-- scan at run time (set_config, which any role may) and calls it.
-- Calling into pgvector loads its library, so this file applies in any session.
select extensions.vector_dims('[1]'::extensions.vector);

alter function public.hybrid_search(text, extensions.vector, integer, integer,
  double precision, double precision, integer, jsonb)
  reset hnsw.iterative_scan;
alter function public.hybrid_search(text, extensions.vector, integer, integer,
  double precision, double precision, integer, jsonb)
  reset hnsw.ef_search;
-- Clients keep calling public.hybrid_search: the wrapper below takes its place, with the
-- same signature, in this same transaction.
alter function public.hybrid_search(text, extensions.vector, integer, integer,
  double precision, double precision, integer, jsonb)
  -- squawk-ignore ban-set-schema
  set schema private;

create function public.hybrid_search(
  query_text text,
  query_embedding extensions.vector default null,
  model_id integer default null,
  match_count integer default 10,
  full_text_weight double precision default 1,
  semantic_weight double precision default 1,
  rrf_k integer default 50,
  filters jsonb default '{}'
)
returns table (
  chunk_id bigint,
  source_id uuid,
  workspace_id uuid,
  source_title text,
  platform text,
  kind text,
  url text,
  role text,
  author text,
  created_at timestamptz,
  message_index integer,
  chunk_index integer,
  content text,
  snippet text,
  score double precision,
  keyword_rank integer,
  keyword_score real,
  semantic_rank integer,
  semantic_score double precision
)
language plpgsql
stable
set search_path = ''
as $$
begin
  -- A filtered ANN search (RLS, filters) must keep scanning the index until it has enough
  -- rows, or a caller who owns a small share of the table gets too few back. Local to the
  -- transaction: PostgREST runs each RPC in its own.
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
  perform set_config('hnsw.ef_search', '100', true);
  return query
    select * from private.hybrid_search(
      query_text, query_embedding, model_id, match_count, full_text_weight,
      semantic_weight, rrf_k, filters);
end
$$;

comment on function public.hybrid_search is
  'Hybrid full-text + vector search over the passages the caller can read, fused by '
  'reciprocal rank. filters: workspace_id, source_id, platform, kind, role (each a string '
  'or an array of strings), date_from, date_to (timestamps). Keyword-only when '
  'query_embedding is null.';

revoke all on function public.hybrid_search(text, extensions.vector, integer, integer,
  double precision, double precision, integer, jsonb) from public, anon;
grant execute on function public.hybrid_search(text, extensions.vector, integer, integer,
  double precision, double precision, integer, jsonb) to authenticated, service_role;
