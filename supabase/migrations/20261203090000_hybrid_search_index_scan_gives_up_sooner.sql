-- A filtered HNSW scan for a query about something the caller never wrote about visits
-- other people's passages until hnsw.max_scan_tuples stops it (20,000 by default): on the
-- 1M corpus the owner of 100,000 passages waited ~60 ms for such a query (what an exact
-- scan of their rows costs) and got recall@10 0.44. Stopping after 2,000 index entries
-- sends those queries back short, so hybrid_search ranks them exactly (recall@10 0.90,
-- p95 99 -> 66 ms), while a query about the caller's own passages finds its rows within
-- a few hundred entries and is unchanged (docs/PERFORMANCE.md).
set local lock_timeout = '5s';

create or replace function public.hybrid_search(
  query_text text,
  query_embedding extensions.vector default null,
  model_id integer default null,
  match_count integer default 10,
  full_text_weight double precision default 1,
  semantic_weight double precision default 1,
  rrf_k integer default 50,
  filters jsonb default '{}',
  static_embedding extensions.vector default null
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
  semantic_score double precision,
  semantic_model_id integer
)
language plpgsql
stable
set search_path = ''
as $$
begin
  -- Before anything parses the text (hybrid_search_query_length_first): a megabyte of
  -- words would fail in websearch_to_tsquery with an internal error.
  if char_length(query_text) > 1000 then
    raise exception 'query_text must be at most 1000 characters' using errcode = '22023';
  end if;
  -- A filtered ANN search (RLS, filters) must keep scanning the index until it has enough
  -- rows, or a caller who owns a small share of the table gets too few back. Local to the
  -- transaction: PostgREST runs each RPC in its own.
  -- ...but not for long: a scan that has not found them within 2,000 index entries is
  -- wading through other people's passages, and private.hybrid_search then ranks the
  -- caller's rows exactly.
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
  perform set_config('hnsw.ef_search', '100', true);
  perform set_config('hnsw.max_scan_tuples', '2000', true);
  return query
    select * from private.hybrid_search(
      query_text, query_embedding, model_id, match_count, full_text_weight,
      semantic_weight, rrf_k, filters, static_embedding);
end
$$;
