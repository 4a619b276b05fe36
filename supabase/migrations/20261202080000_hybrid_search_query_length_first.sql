-- An attacker's megabyte of words reached websearch_to_tsquery before the 1000-character
-- check (it runs in private.hybrid_search's declare block), which failed with 54000 "value
-- is too big in tsquery": a 500 through PostgREST, after parsing the whole text. The
-- public entry point now refuses a long query before anything parses it.
create or replace function public.hybrid_search(
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
  if char_length(query_text) > 1000 then
    raise exception 'query_text must be at most 1000 characters' using errcode = '22023';
  end if;
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
  perform set_config('hnsw.ef_search', '100', true);
  return query
    select * from private.hybrid_search(
      query_text, query_embedding, model_id, match_count, full_text_weight,
      semantic_weight, rrf_k, filters);
end
$$;
